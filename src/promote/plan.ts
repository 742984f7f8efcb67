import { createHash } from 'node:crypto'
import { UsageError, UserError } from '../cli/errors.js'
import type { ComponentPin } from '../pins/index.js'
import { componentsToPlan } from '../repo/index.js'
import type { RepoSpec } from '../spec/index.js'

export interface PromotionChange {
  readonly component: string
  readonly repository: string
  readonly tag: string
  /** The digest the target environment pins now; null when it is unpinned. */
  readonly previous: string | null
  /** The source environment's digest, now pinned in the target too. */
  readonly digest: string
}

export interface PromotionPlan {
  readonly from: string
  readonly to: string
  readonly changes: readonly PromotionChange[]
  /** Components whose target already pins the source's digest. */
  readonly unchanged: readonly string[]
}

export interface PromotionInput {
  readonly spec: RepoSpec
  readonly from: string
  readonly to: string
  readonly fromPins: readonly ComponentPin[]
  readonly toPins: readonly ComponentPin[]
  /** Components to promote; empty or undefined: every component of the source environment. */
  readonly components?: readonly string[]
}

/** Which pins move from one environment to another. Pure: the caller reads pins through the pin seam. */
export function planPromotion(input: PromotionInput): PromotionPlan {
  const { spec, from, to } = input
  if (from === to)
    throw new UsageError(`--from and --to are both "${from}"`, { hint: 'Promote between two environments.' })
  const { names } = componentsToPlan(spec, input.components, input.fromPins)
  if (names.length === 0) {
    throw new UserError(`environment ${from} pins no component of this repo: nothing to promote`, {
      code: 'nothing-to-promote',
    })
  }
  const problems: string[] = []
  const changes: PromotionChange[] = []
  const unchanged: string[] = []
  for (const name of names) {
    const component = spec.components.find((c) => c.name === name)!
    const source = input.fromPins.find((p) => p.component === name)
    const target = input.toPins.find((p) => p.component === name)
    if (!source)
      problems.push(`component ${name} is missing in environment ${from} (no image entry for ${component.image})`)
    if (!target)
      problems.push(`component ${name} is missing in environment ${to} (no image entry for ${component.image})`)
    if (!source || !target) continue
    if (!source.digest) {
      problems.push(
        `component ${name} is not pinned in ${from} (${source.file}: ${source.tag ?? '?'} without @sha256:): there is no known-good digest to promote`,
      )
      continue
    }
    if (source.tag !== undefined && source.tag !== spec.tag) {
      problems.push(`component ${name} in ${from} pins tag "${source.tag}", but this repo deploys tag "${spec.tag}"`)
      continue
    }
    if (target.digest === source.digest && target.tag === spec.tag) {
      unchanged.push(name)
      continue
    }
    changes.push({
      component: name,
      repository: component.image,
      tag: spec.tag,
      previous: target.digest ?? null,
      digest: source.digest,
    })
  }
  if (problems.length > 0) {
    throw new UserError(`cannot promote ${from} to ${to}:\n  ${problems.join('\n  ')}`, {
      code: 'promotion-refused',
      hint: `Wait for the updater to pin ${from} (or pin it with init --pin), or pick components with --component.`,
    })
  }
  return { from, to, changes, unchanged }
}

/** Same changes, same name: a re-run after a failed push finds its branch again. */
export function defaultBranchName(plan: PromotionPlan): string {
  const hash = createHash('sha256')
  for (const change of plan.changes) hash.update(`${change.component}=${change.digest}\n`)
  return `konflux-gitops/promote-${plan.from}-to-${plan.to}-${hash.digest('hex').slice(0, 8)}`
}

export function commitMessage(plan: PromotionPlan): string {
  const names = plan.changes.map((c) => c.component).join(', ')
  const lines = [
    `Promote ${plan.from} to ${plan.to}: ${names}`,
    '',
    `Pins the digests running in ${plan.from} in ${plan.to}:`,
    '',
    ...plan.changes.map(
      (c) => `- ${c.component} (${c.repository}:${c.tag}): ${c.previous ?? 'unpinned'} -> ${c.digest}`,
    ),
    '',
    `Promoted-From: ${plan.from}`,
    `Promoted-To: ${plan.to}`,
  ]
  return `${lines.join('\n')}\n`
}
