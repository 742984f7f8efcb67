import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { dryRunFlag, proposeChangeFlags, proposeOptions, repoDirArg } from '../src/cli/flags.js'
import { describeFreeze, type FreezeResult, freezeEnvironment } from '../src/freeze/index.js'
import { deliveryExitCode } from '../src/git/index.js'

export default class Freeze extends BaseCommand {
  static override summary = 'Stop the updater from changing an environment until it is unfrozen'
  static override description =
    `Records the freeze in konflux-gitops.yaml (frozen: {by, at, reason}; comments and order kept) and makes the
updater skip the environment: for Renovate, a packageRules entry matching the environment's pin files with
enabled: false, appended to renovate.json. unfreeze removes exactly what freeze added. promote refuses a frozen
environment unless --force; status and validate show it.

Commits on the current branch (or a new --branch); --push pushes it; --github OWNER/REPO opens a pull request.
Freezing a frozen environment again keeps who and when, and updates the reason when one is given.

${EXIT_CODES_HELP}`
  static override examples = [
    "<%= config.bin %> <%= command.id %> --env prod --reason 'bad release, investigating'",
    '<%= config.bin %> <%= command.id %> --env prod --dry-run',
    '<%= config.bin %> <%= command.id %> --env prod --branch freeze-prod --github acme/shop-gitops',
  ]
  static override args = repoDirArg()
  static override flags = {
    env: Flags.string({ char: 'e', description: 'environment to freeze', required: true }),
    reason: Flags.string({ description: 'why (recorded in konflux-gitops.yaml and the commit)' }),
    by: Flags.string({ description: 'who freezes (default: git user.name <user.email>)' }),
    ...proposeChangeFlags('commit on this new branch instead of the current one'),
    ...dryRunFlag(),
  }

  async run(): Promise<FreezeResult> {
    const { args, flags } = await this.parse(Freeze)
    const result = await freezeEnvironment({
      dir: args.dir,
      env: flags.env,
      reason: flags.reason,
      by: flags.by,
      ...proposeOptions(flags),
      onProgress: (message) => this.progress(message),
    })
    this.log(describeFreeze(result))
    this.exitWith(deliveryExitCode(result))
    return result
  }
}
