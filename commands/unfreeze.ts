import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { dryRunFlag, proposeChangeFlags, proposeOptions, repoDirArg } from '../src/cli/flags.js'
import { describeFreeze, type FreezeResult, freezeEnvironment } from '../src/freeze/index.js'
import { deliveryExitCode } from '../src/git/index.js'

export default class Unfreeze extends BaseCommand {
  static override summary = 'Let the updater change a frozen environment again'
  static override description =
    `Removes the environment's frozen entry from konflux-gitops.yaml and exactly the packageRules entry freeze added
to renovate.json, so the updater proposes updates for it again. Commits on the current branch (or a new --branch);
--push pushes it; --github OWNER/REPO opens a pull request.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --env prod',
    '<%= config.bin %> <%= command.id %> --env prod --dry-run --json',
  ]
  static override args = repoDirArg()
  static override flags = {
    env: Flags.string({ char: 'e', description: 'environment to unfreeze', required: true }),
    ...proposeChangeFlags('commit on this new branch instead of the current one'),
    ...dryRunFlag(),
  }

  async run(): Promise<FreezeResult> {
    const { args, flags } = await this.parse(Unfreeze)
    const result = await freezeEnvironment({
      dir: args.dir,
      env: flags.env,
      unfreeze: true,
      ...proposeOptions(flags),
      onProgress: (message) => this.progress(message),
    })
    this.log(describeFreeze(result))
    this.exitWith(deliveryExitCode(result))
    return result
  }
}
