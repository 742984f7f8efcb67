import { UsageError, UserError } from '../cli/errors.js'
import { type Freeze, type FreezeAuthorship, newFreeze, planFreeze } from '../freeze/index.js'
import {
  deliver,
  deliveryOf,
  notDelivered,
  type ProposedChange,
  type ProposeOptions,
  parseGitHubRepo,
} from '../git/index.js'
import { describeCommit, PinArchive, pinHistory, resolveCommit } from '../history/index.js'
import { findEnvironment, openGitOpsRepo } from '../repo/index.js'
import { defaultRollbackBranch, planRollback, type RestorePoint, type RollbackChange, rollbackMessage } from './plan.js'

export interface RollbackOptions extends ProposeOptions, FreezeAuthorship {
  readonly dir: string
  readonly env: string
  /** Restore the pins as they were at this commit, tag or branch. */
  readonly to?: string | undefined
  /** Restore the pins as they were N pin changes ago (default 1). */
  readonly steps?: number | undefined
  readonly components?: readonly string[] | undefined
  /** Also freeze the environment in the same commit (default true). */
  readonly freeze?: boolean
  readonly onProgress?: (message: string) => void
}

export interface RollbackResult extends ProposedChange {
  env: string
  /** The commit whose pins are restored. */
  target: RestorePoint
  changes: RollbackChange[]
  unchanged: string[]
  /** The freeze recorded in the same commit, or null with --no-freeze. */
  frozen: Freeze | null
  files: string[]
}

export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  if (options.to !== undefined && options.steps !== undefined) {
    throw new UsageError('--to and --steps both say where to go back to: give one of them', {
      hint: '--to REF restores the pins at a commit; --steps N goes back N pin changes.',
    })
  }
  const steps = options.steps ?? 1
  if (!Number.isInteger(steps) || steps < 1) {
    throw new UsageError(`--steps ${options.steps}: expected a whole number of pin changes, 1 or more`)
  }
  if (options.github !== undefined) parseGitHubRepo(options.github)
  const { dir, spec, readText } = await openGitOpsRepo(options.dir, {
    write: options.dryRun ? undefined : 'rollback',
  })
  findEnvironment(spec, options.env)

  const archive = await PinArchive.open(dir, spec)
  try {
    const target = await restorePoint(archive, dir, options, steps)
    const store = archive.store
    const input = {
      spec,
      env: options.env,
      target,
      current: store.read(spec, options.env, readText),
      restore: await archive.pinsAt(target.commit, options.env),
      components: options.components,
    }
    const plan = planRollback(input)
    // Name, for each restored digest, the change that pinned it first: the commit a reader can look up.
    const upToTarget = await pinHistory(archive, {
      envs: [options.env],
      components: plan.changes.map((c) => c.component),
      ref: target.commit,
    })
    const origins = new Map<string, RestorePoint>()
    for (const change of plan.changes) {
      const origin = upToTarget.changes.find((c) => c.component === change.component && c.digest === change.restored)
      if (origin) origins.set(change.component, { commit: origin.commit, date: origin.date, subject: origin.subject })
    }
    const final = planRollback({ ...input, origins })

    const files = new Map(
      store.write(spec, options.env, readText, {
        pins: new Map(final.changes.map((change) => [change.component, change.restored])),
      }),
    )
    let frozen: Freeze | null = null
    if (options.freeze !== false) {
      const current = spec.environments.find((e) => e.name === options.env)?.frozen
      frozen = current
        ? { ...current, ...(options.reason ? { reason: options.reason } : {}) }
        : await newFreeze(dir, {
            by: options.by,
            now: options.now,
            reason: options.reason ?? `rolled back to ${target.commit.slice(0, 12)}`,
          })
      const freezePlan = planFreeze({
        env: options.env,
        freeze: frozen,
        readText: (path) => files.get(path) ?? readText(path),
      })
      for (const [path, text] of freezePlan.files) files.set(path, text)
    }
    for (const [path, text] of files) if (readText(path) === text) files.delete(path)

    const branch = options.branch ?? defaultRollbackBranch(final)
    const result: RollbackResult = {
      env: options.env,
      target,
      changes: [...final.changes],
      unchanged: [...final.unchanged],
      frozen,
      files: [...files.keys()],
      ...notDelivered(branch, options.dryRun),
    }
    if (files.size === 0) return result
    const delivered = await deliver({
      dir,
      files,
      message: rollbackMessage(final, frozen !== null),
      branch,
      ...deliveryOf(options),
      command: 'rollback',
      onProgress: options.onProgress,
    })
    return { ...result, ...delivered }
  } finally {
    archive.close()
  }
}

async function restorePoint(
  archive: PinArchive,
  dir: string,
  options: RollbackOptions,
  steps: number,
): Promise<RestorePoint> {
  if (options.to !== undefined) return describeCommit(dir, await resolveCommit(dir, options.to))
  const history = await pinHistory(archive, { envs: [options.env], components: options.components })
  const commits: Array<{ commit: string; parent: string | null }> = []
  for (const change of history.changes) {
    if (!commits.some((c) => c.commit === change.commit)) commits.push(change)
  }
  const nth = commits[steps - 1]
  if (!nth || nth.parent === null) {
    throw new UserError(
      `${options.env} has ${commits.length} pin change${commits.length === 1 ? '' : 's'} in its history${nth ? ', the last of them its first pins' : ''}: nothing to roll back to ${steps} change${steps === 1 ? '' : 's'} ago`,
      {
        code: 'nothing-to-roll-back',
        hint: `konflux-gitops history --env ${options.env} lists them; use a smaller --steps or --to REF.`,
      },
    )
  }
  return describeCommit(dir, nth.parent)
}
