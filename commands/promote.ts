import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { dryRunFlag, proposeChangeFlags, proposeOptions, repoDirArg } from '../src/cli/flags.js'
import { deliveryExitCode, describeProposedChange } from '../src/git/index.js'
import { shortDigest } from '../src/image-ref/index.js'
import { type PromoteResult, promote } from '../src/promote/index.js'

export default class Promote extends BaseCommand {
  static override summary = 'Promote the pinned digests of one environment to another, on a new branch'
  static override description =
    `Copies the pinned tag@digest of the chosen components (default: all) from one environment's overlay to
another's, keeping comments and order, and commits the change on a new branch with a message listing each component
with its old and new digest. You are left on the new branch; a second run finds nothing to promote.

--push pushes the branch to --remote. --github OWNER/REPO proposes the same change as a pull request through the
GitHub API (the same branch name on top of the repository's default branch; token from GITHUB_TOKEN or GH_TOKEN);
re-running it updates that pull request instead of opening another.

Refuses an unpinned source (nothing known-good to promote), a component missing in either environment,
uncommitted changes to the files it rewrites, and a frozen target (unless --force). --dry-run prints the diff and
changes nothing. A failed push keeps the commit and says why (pushError, exit 1).

With --verify-key FILE (repeatable) or verify.keys in konflux-gitops.yaml, every digest the promotion would move
into --to must carry a cosign signature by one of the keys (sha256-<hex>.sig tag or OCI referrer; an index by its
index digest): an unsigned one refuses the whole promotion (exit 1, verify-unsigned) and nothing is written or
committed; --dry-run shows the same refusal. Keyless signatures are not verified.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --from stage --to prod',
    '<%= config.bin %> <%= command.id %> --from stage --to prod --component api --dry-run',
    '<%= config.bin %> <%= command.id %> --from stage --to prod --github acme/shop-gitops',
  ]
  static override args = repoDirArg()
  static override flags = {
    from: Flags.string({ description: 'environment whose pins are promoted', required: true }),
    to: Flags.string({ description: 'environment that gets them', required: true }),
    component: Flags.string({
      char: 'c',
      description: 'component to promote (repeatable; default: all)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ...proposeChangeFlags('name of the new branch (default: konflux-gitops/promote-FROM-to-TO-<hash>)'),
    force: Flags.boolean({ description: 'promote into a frozen environment anyway' }),
    'verify-key': Flags.string({
      description:
        "public key (PEM) every promoted digest must be signed by (repeatable; also the repo's verify.keys); unsigned: nothing is written",
      multiple: true,
    }),
    ...dryRunFlag(),
  }

  async run(): Promise<PromoteResult> {
    const { args, flags } = await this.parse(Promote)
    const result = await promote(
      {
        dir: args.dir,
        from: flags.from,
        to: flags.to,
        components: flags.component,
        ...proposeOptions(flags),
        force: flags.force,
        verifyKeys: flags['verify-key'],
      },
      { onProgress: (message) => this.progress(message) },
    )
    if (result.changes.length === 0) {
      this.log(
        `${result.to} already pins ${result.from}'s digests for ${result.unchanged.join(', ')}: nothing to promote`,
      )
      return result
    }
    for (const change of result.changes) {
      this.log(`${change.component.padEnd(20)} ${shortDigest(change.previous)} -> ${shortDigest(change.digest)}`)
    }
    this.log(describeProposedChange(result))
    this.exitWith(deliveryExitCode(result))
    return result
  }
}
