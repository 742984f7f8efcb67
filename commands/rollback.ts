import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { dryRunFlag, proposeChangeFlags, proposeOptions, repoDirArg } from '../src/cli/flags.js'
import { deliveryExitCode, describeProposedChange } from '../src/git/index.js'
import { shortDigest } from '../src/image-ref/index.js'
import { type RollbackResult, rollback } from '../src/rollback/index.js'

export default class Rollback extends BaseCommand {
  static override summary = 'Put an environment back on earlier pins from git history, and freeze it so it sticks'
  static override description =
    `Finds the environment's earlier pins in the repository's git history, either as they were at --to REF or N pin
changes ago (--steps N, default 1; a pin change is a commit that changed the environment's pins), and writes them
back through the environment's pin files (comments and order kept) for all components or the ones named with
--component. The environment is frozen in the same commit (see freeze) so the updater does not undo the rollback,
unless --no-freeze.

Commits on a new branch with a message listing each component with its digest now, the digest restored and the
commit it came from; --push pushes the branch and --github OWNER/REPO opens a pull request. Refuses when there is
nothing to roll back to, the files it rewrites have uncommitted changes, or a component is unknown to the environment.
--dry-run prints the diff and changes nothing.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --env prod',
    '<%= config.bin %> <%= command.id %> --env prod --steps 2 --component api --dry-run',
    '<%= config.bin %> <%= command.id %> --env prod --to v1.4.0 --github acme/shop-gitops',
  ]
  static override args = repoDirArg()
  static override flags = {
    env: Flags.string({ char: 'e', description: 'environment to roll back', required: true }),
    to: Flags.string({ description: 'restore the pins as they were at this commit, tag or branch' }),
    steps: Flags.integer({ description: 'restore the pins as they were N pin changes ago (default 1)', min: 1 }),
    component: Flags.string({
      char: 'c',
      description: 'component to roll back (repeatable; default: all)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    freeze: Flags.boolean({ description: 'freeze the environment in the same commit', default: true, allowNo: true }),
    reason: Flags.string({ description: 'why (recorded with the freeze)' }),
    ...proposeChangeFlags('name of the new branch (default: konflux-gitops/rollback-ENV-<hash>)'),
    ...dryRunFlag(),
  }

  async run(): Promise<RollbackResult> {
    const { args, flags } = await this.parse(Rollback)
    const result = await rollback({
      dir: args.dir,
      env: flags.env,
      to: flags.to,
      steps: flags.steps,
      components: flags.component,
      freeze: flags.freeze,
      reason: flags.reason,
      ...proposeOptions(flags),
      onProgress: (message) => this.progress(message),
    })
    this.log(`${result.env}: back to ${result.target.commit.slice(0, 12)} (${result.target.subject})`)
    for (const change of result.changes) {
      this.log(
        `${change.component.padEnd(20)} ${shortDigest(change.current)} -> ${shortDigest(change.restored)} (from ${change.from.commit.slice(0, 12)})`,
      )
    }
    if (result.frozen) this.log(`${result.env} frozen: ${result.frozen.reason ?? ''}`)
    this.log(describeProposedChange(result))
    this.exitWith(deliveryExitCode(result))
    return result
  }
}
