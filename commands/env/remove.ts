import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
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
  static override args = {
    name: Args.string({ description: 'environment name', required: true }),
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
  static override flags = {
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({ description: 'delete generated files you edited too', default: false }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(EnvRemove)
    const result = await removeEnvironment({
      dir: args.dir,
      name: args.name,
      push: flags.push,
      dryRun: flags['dry-run'],
      force: flags.force,
      progress: (message) => this.progress(message),
    })
    this.log(describeResult(result))
    this.exitWith(resultExitCode(result))
    return result
  }
}
