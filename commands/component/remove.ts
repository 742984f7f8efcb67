import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
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
  static override args = {
    name: Args.string({ description: 'component name', required: true }),
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
  static override flags = {
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({ description: 'delete generated files you edited too', default: false }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(ComponentRemove)
    const result = await removeComponent({
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
