import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { nameAndDirArgs, scaffoldFlags, scaffoldOptions } from '../../src/cli/flags.js'
import { describeResult, removeComponent, resultExitCode, type ScaffoldResult } from '../../src/scaffold/index.js'

export default class ComponentRemove extends BaseCommand {
  static override summary = 'Remove a component from the GitOps repo and every environment'
  static override description =
    `Removes NAME from konflux-gitops.yaml, deletes components/NAME/ (a file you edited there is kept and
reported unless --force) and drops its base and images: entry from every environment, then commits.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> worker',
    '<%= config.bin %> <%= command.id %> web demo --dry-run',
  ]
  static override args = nameAndDirArgs('component name')
  static override flags = scaffoldFlags('delete generated files you edited too')

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(ComponentRemove)
    const result = await removeComponent({
      dir: args.dir,
      name: args.name,
      ...scaffoldOptions(flags),
      progress: (message) => this.progress(message),
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
