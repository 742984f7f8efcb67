import { createHash } from 'node:crypto'
import { UsageError, UserError } from '../cli/errors.js'
import type { ComponentPin } from '../pins/index.js'
import { componentsToPlan } from '../repo/index.js'
import type { RepoSpec } from '../spec/index.js'

export interface RestorePoint {
  readonly commit: string
  readonly date: string
  readonly subject: string
}

export interface RollbackChange {
  readonly component: string
  readonly repository: string
  readonly tag: string
  /** The digest the environment pins now; null when unpinned. */
  readonly current: string | null
  readonly restored: string
  /** The commit that first pinned the restored digest (or the restore point when history does not say). */
  readonly from: RestorePoint
}

export interface RollbackPlan {
  readonly env: string
  readonly target: RestorePoint
  readonly changes: readonly RollbackChange[]
  /** Components already at the restore point's digest. */
  readonly unchanged: readonly string[]
}

export interface RollbackInput {
  readonly spec: RepoSpec
  readonly env: string
  readonly target: RestorePoint
  readonly current: readonly ComponentPin[]
  readonly restore: readonly ComponentPin[]
  /** Where each restored component's digest was pinned first, by component name. */
  readonly origins?: ReadonlyMap<string, RestorePoint>
  /** Components to roll back; empty or undefined: every component the environment pins. */
  readonly components?: readonly string[]
}

/** Which pins go back to which digest. Pure: the caller reads both sets of pins through the pin seam. */
export function planRollback(input: RollbackInput): RollbackPlan {
  const { spec, env, target } = input
  const { requested, names } = componentsToPlan(spec, input.components, input.current)
  const notInEnv = (requested ?? []).filter((name) => !input.current.some((pin) => pin.component === name))
  if (notInEnv.length > 0) {
    throw new UsageError(`environment ${env} has no pin for ${notInEnv.join(', ')}`, {
      code: 'unknown-component',
      hint: `Components pinned in ${env}: ${input.current.map((p) => p.component ?? p.repository).join(', ') || 'none'}.`,
    })
  }
  const short = target.commit.slice(0, 12)
  const problems: string[] = []
  const changes: RollbackChange[] = []
  const unchanged: string[] = []
  for (const name of names) {
    const component = spec.components.find((c) => c.name === name)!
    const now = input.current.find((p) => p.component === name)
    const then = input.restore.find((p) => p.component === name)
    if (!then?.digest) {
      // Without --component, a component that was not pinned then simply stays as it is.
      if (requested) problems.push(`${name} was not pinned to a digest in ${env} at ${short}`)
      continue
    }
    if (then.tag !== undefined && then.tag !== spec.tag) {
      problems.push(`${name} pinned tag "${then.tag}" at ${short}, but this repo deploys tag "${spec.tag}" now`)
      continue
    }
    if (now?.digest === then.digest && now.tag === spec.tag) {
      unchanged.push(name)
      continue
    }
    changes.push({
      component: name,
      repository: component.image,
      tag: spec.tag,
      current: now?.digest ?? null,
      restored: then.digest,
      from: input.origins?.get(name) ?? target,
    })
  }
  if (problems.length > 0) {
    throw new UserError(`cannot roll back ${env} to ${short}:\n  ${problems.join('\n  ')}`, {
      code: 'rollback-refused',
      hint: 'Pick an earlier point with --to REF or --steps N (konflux-gitops history shows them), or name components with --component.',
    })
  }
  if (changes.length === 0) {
    throw new UserError(
      unchanged.length === 0
        ? `${env} had no pinned digest at ${short}: nothing to roll back to`
        : `${env} already pins the digests it had at ${short} (${unchanged.join(', ')}): nothing to roll back`,
      {
        code: 'nothing-to-roll-back',
        hint: `konflux-gitops history --env ${env} lists its pin changes; pick another with --to REF or --steps N.`,
      },
    )
  }
  return { env, target, changes, unchanged }
}

/** Same change, same name: a re-run after a failed push finds its branch again. */
export function defaultRollbackBranch(plan: RollbackPlan): string {
  const hash = createHash('sha256')
  for (const change of plan.changes) hash.update(`${change.component}=${change.restored}\n`)
  return `konflux-gitops/rollback-${plan.env}-${hash.digest('hex').slice(0, 8)}`
}

export function rollbackMessage(plan: RollbackPlan, frozen: boolean): string {
  const short = plan.target.commit.slice(0, 12)
  const lines = [
    `Roll back ${plan.env} to ${short}: ${plan.changes.map((c) => c.component).join(', ')}`,
    '',
    `Restores the digests ${plan.env} pinned at ${short} (${plan.target.subject}):`,
    '',
    ...plan.changes.map(
      (c) =>
        `- ${c.component} (${c.repository}:${c.tag}): ${c.current ?? 'unpinned'} -> ${c.restored} (from ${c.from.commit.slice(0, 12)})`,
    ),
    '',
  ]
  if (frozen) {
    lines.push(
      `Freezes ${plan.env} so the updater does not undo this; lift it with \`konflux-gitops unfreeze --env ${plan.env}\`.`,
      '',
    )
  }
  lines.push(`Rollback-Environment: ${plan.env}`, `Restored-From: ${plan.target.commit}`)
  return `${lines.join('\n')}\n`
}
