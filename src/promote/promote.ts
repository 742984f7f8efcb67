import { UserError } from '../cli/errors.js'
import {
  deliver,
  deliveryOf,
  notDelivered,
  type ProposedChange,
  type ProposeOptions,
  parseGitHubRepo,
} from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { findEnvironment, openGitOpsRepo } from '../repo/index.js'
import { commitMessage, defaultBranchName, type PromotionChange, planPromotion } from './plan.js'

export interface PromoteOptions extends ProposeOptions {
  readonly dir: string
  readonly from: string
  readonly to: string
  readonly components?: readonly string[]
  /** Promote into a frozen environment anyway. */
  readonly force?: boolean
  /**
   * Public key files (PEM): every digest moved into the target must be signed by one of them (with the spec's
   * verify.keys, which are repo-relative), else nothing is written.
   */
  readonly verifyKeys?: readonly string[] | undefined
}

export interface PromoteResult extends ProposedChange {
  from: string
  to: string
  changes: PromotionChange[]
  unchanged: string[]
  /** Repo-relative files the promotion changes. */
  files: string[]
}

export interface PromoteDeps {
  /** Progress lines for stderr. */
  onProgress?: (message: string) => void
}

/** Prod never pins an unsigned image: check every digest the promotion would move, before anything is written. */
async function verifyPromotedDigests(
  dir: string,
  spec: { verify?: { keys: string[] } | undefined },
  to: string,
  changes: readonly PromotionChange[],
  keyFiles: readonly string[],
): Promise<void> {
  if (keyFiles.length === 0 && !spec.verify) return
  const [verify, { createRegistryClient }, { parseImageRef }] = await Promise.all([
    import('../verify/index.js'),
    import('../registry/index.js'),
    import('../image-ref/index.js'),
  ])
  // Keys are read even when nothing moves, so a bad key file is always a usage error.
  const keys = await verify.loadVerificationKeys(verify.repoKeySources(dir, spec.verify?.keys, keyFiles))
  if (changes.length === 0) return
  const client = createRegistryClient()
  try {
    const unsigned: string[] = []
    for (const change of changes) {
      const ref = parseImageRef(change.repository)
      const check = await verify.checkSignature(
        client,
        { registry: ref.registry, path: ref.path, digest: change.digest },
        keys,
      )
      if (!check.signed) unsigned.push(`${change.component}: ${check.summary}`)
    }
    if (unsigned.length > 0) {
      throw new verify.VerifyError(`refusing to promote unsigned digests into ${to}:\n  - ${unsigned.join('\n  - ')}`, {
        hint: 'Promote only what Konflux built and signed: check that Tekton Chains signed these digests (cosign tree IMAGE) and that --verify-key / verify.keys names its public key (cosign.pub). Nothing was written.',
      })
    }
  } finally {
    await client.close()
  }
}

export async function promote(options: PromoteOptions, deps: PromoteDeps = {}): Promise<PromoteResult> {
  if (options.github !== undefined) parseGitHubRepo(options.github)
  const { dir, spec, readText } = await openGitOpsRepo(options.dir, { write: options.dryRun ? undefined : 'promote' })
  findEnvironment(spec, options.from)
  const target = findEnvironment(spec, options.to)
  if (target.frozen && !options.force) {
    throw new UserError(
      `environment ${target.name} is frozen (by ${target.frozen.by} at ${target.frozen.at}${target.frozen.reason ? `: ${target.frozen.reason}` : ''})`,
      { code: 'environment-frozen', hint: `Unfreeze it first, or pass --force to promote into it anyway.` },
    )
  }

  const store = pinStoreFor(spec)
  const plan = planPromotion({
    spec,
    from: options.from,
    to: options.to,
    fromPins: store.read(spec, options.from, readText),
    toPins: store.read(spec, options.to, readText),
    components: options.components,
  })
  const result: PromoteResult = {
    from: plan.from,
    to: plan.to,
    changes: [...plan.changes],
    unchanged: [...plan.unchanged],
    files: [],
    ...notDelivered(null, options.dryRun),
  }
  await verifyPromotedDigests(dir, spec, plan.to, plan.changes, options.verifyKeys ?? [])
  if (plan.changes.length === 0) return result

  const written = store.write(spec, options.to, readText, {
    pins: new Map(plan.changes.map((change) => [change.component, change.digest])),
  })
  const changedFiles = [...written].filter(([path, text]) => readText(path) !== text)
  result.files = changedFiles.map(([path]) => path)
  const delivered = await deliver({
    dir,
    files: new Map(changedFiles),
    message: commitMessage(plan),
    branch: options.branch ?? defaultBranchName(plan),
    ...deliveryOf(options),
    command: 'promote',
    noun: 'promotion',
    onProgress: deps.onProgress,
  })
  return { ...result, ...delivered }
}
