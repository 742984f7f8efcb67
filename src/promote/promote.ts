import { resolve } from 'node:path'
import { UserError } from '../cli/errors.js'
import {
  assertCleanRepo,
  commitChange,
  deliveryOf,
  diffAgainstTree,
  notCommitted,
  openRepo,
  type ProposedChange,
  type ProposeOptions,
  parseGitHubRepo,
} from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { findEnvironment, loadRepoSpec, repoReader } from '../render/index.js'
import { commitMessage, defaultBranchName, type PromotionChange, planPromotion } from './plan.js'

export interface PromoteOptions extends ProposeOptions {
  readonly dir: string
  readonly from: string
  readonly to: string
  readonly components?: readonly string[]
  /** Promote into a frozen environment anyway. */
  readonly force?: boolean
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

export async function promote(options: PromoteOptions, deps: PromoteDeps = {}): Promise<PromoteResult> {
  const dir = resolve(options.dir)
  if (options.github !== undefined) parseGitHubRepo(options.github)
  const spec = await loadRepoSpec(dir)
  findEnvironment(spec, options.from)
  const target = findEnvironment(spec, options.to)
  if (target.frozen && !options.force) {
    throw new UserError(
      `environment ${target.name} is frozen (by ${target.frozen.by} at ${target.frozen.at}${target.frozen.reason ? `: ${target.frozen.reason}` : ''})`,
      { code: 'environment-frozen', hint: `Unfreeze it first, or pass --force to promote into it anyway.` },
    )
  }

  await assertCleanRepo(dir, 'promote', { commits: 'commits its change on a new branch', change: 'promotion' })

  const store = pinStoreFor(spec)
  const readText = repoReader(dir)
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
    ...notCommitted(null, options.dryRun),
  }
  if (plan.changes.length === 0) return result

  const written = store.write(spec, options.to, readText, {
    pins: new Map(plan.changes.map((change) => [change.component, change.digest])),
  })
  const changedFiles = [...written].filter(([path, text]) => readText(path) !== text)
  result.files = changedFiles.map(([path]) => path)
  result.base = (await openRepo(dir).currentBranch()) ?? null
  const branch = options.branch ?? defaultBranchName(plan)
  result.branch = branch

  if (options.dryRun) {
    result.diff = await diffAgainstTree(dir, new Map(changedFiles))
    return result
  }

  const committed = await commitChange({
    dir,
    files: new Map(changedFiles),
    message: commitMessage(plan),
    branch,
    ...deliveryOf(options),
    noun: 'promotion',
    onProgress: deps.onProgress,
  })
  return { ...result, ...committed }
}
