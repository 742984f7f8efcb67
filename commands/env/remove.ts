import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { nameAndDirArgs, scaffoldFlags, scaffoldOptions } from '../../src/cli/flags.js'
import { describeResult, removeEnvironment, resultExitCode, type ScaffoldResult } from '../../src/scaffold/index.js'

export default class EnvRemove extends BaseCommand {
  static override summary = 'Remove an environment from the GitOps repo'
  static override description =
    `Removes NAME from konflux-gitops.yaml, deletes environments/NAME/ and its Argo CD object, updates
renovate.json, then commits. Argo CD prunes what it deployed there once the change is merged.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> qa',
    '<%= config.bin %> <%= command.id %> qa demo --dry-run',
  ]
  static override args = nameAndDirArgs('environment name')
  static override flags = scaffoldFlags('delete generated files you edited too')

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(EnvRemove)
    const result = await removeEnvironment({
      dir: args.dir,
      name: args.name,
      ...scaffoldOptions(flags),
      progress: (message) => this.progress(message),
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
