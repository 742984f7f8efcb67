/**
 * A release report small enough for a Tekton result. Tekton keeps every result of a TaskRun in the container's
 * termination message, 4096 bytes for all of them together, and fails the TaskRun when they do not fit (after the
 * images moved). So the result carries the counts and each image's digest with its tags, shrinking (tags first,
 * then images) until it fits; the full `release --json` goes to the step log.
 */
import type { ReleaseReport } from './release.js'

/** Room left for the result's name and the termination message's JSON framing. */
export const TEKTON_RESULT_BUDGET = 3500

export interface CompactReport {
  snapshot: string
  application: string
  dryRun: boolean
  summary: ReleaseReport['summary']
  /** One entry per image released: component, digest and the tags it now has (dropped when they do not fit). */
  images: { component: string; digest: string; tags?: string[] }[]
  /** Images not listed for lack of room. */
  more?: number
  /** The first failures, code and target. */
  failed: { target: string; code: string }[]
}

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8')

export function compactReport(report: ReleaseReport, budget = TEKTON_RESULT_BUDGET): CompactReport {
  const byImage = new Map<string, { component: string; digest: string; tags: string[] }>()
  for (const item of report.results) {
    const key = `${item.component} ${item.digest}`
    const entry = byImage.get(key) ?? { component: item.component, digest: item.digest, tags: [] }
    if (item.status !== 'failed' && item.status !== 'refused') entry.tags.push(item.target)
    byImage.set(key, entry)
  }
  const failures = report.results
    .filter((r) => r.error)
    .map((r) => ({ target: r.target, code: r.error?.code ?? 'failed' }))
  const compact: CompactReport = {
    snapshot: report.snapshot,
    application: report.application,
    dryRun: report.dryRun,
    summary: report.summary,
    images: [...byImage.values()],
    failed: failures.slice(0, 5),
  }
  if (size(compact) <= budget) return compact
  compact.images = compact.images.map(({ component, digest }) => ({ component, digest }))
  compact.failed = failures.slice(0, 1)
  while (size(compact) > budget && compact.images.length > 0) {
    compact.images.pop()
    compact.more = byImage.size - compact.images.length
  }
  return compact
}
