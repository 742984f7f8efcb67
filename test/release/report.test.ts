import { describe, expect, test } from 'vitest'
import { compactReport, type ReleaseReport, TEKTON_RESULT_BUDGET } from '../../src/release/index.js'

/** A report as `release --json` gives it: per component, one result per tag. */
function reportOf(components: number, tags: number): ReleaseReport {
  const results: ReleaseReport['results'] = []
  for (let c = 0; c < components; c++) {
    const repo = `quay.io/redhat-user-workloads/acme-tenant-with-a-long-name/shop-application/component-${c}`
    const digest = `sha256:${String(c).padStart(64, 'a')}`
    for (let t = 0; t < tags; t++) {
      results.push({
        component: `component-${c}`,
        source: `${repo}@${digest}`,
        target: `quay.io/acme-releases/shop-application/component-${c}:tag-${t}-${'x'.repeat(20)}`,
        tag: `tag-${t}`,
        digest,
        status: 'moved',
        mediaType: 'application/vnd.oci.image.index.v1+json',
        previousDigest: `sha256:${'b'.repeat(64)}`,
        followed: [`sha256:${'c'.repeat(64)}`, `sha256:${'d'.repeat(64)}`],
        warnings: [],
        error: null,
      } as ReleaseReport['results'][number])
    }
  }
  return {
    snapshot: 'shop-20261124-091500-123',
    application: 'shop-application',
    dryRun: false,
    forced: [],
    summary: { moved: results.length, unchanged: 0, wouldMove: 0, failed: 0, refused: 0, skipped: 0 },
    results,
    skipped: [],
  } as unknown as ReleaseReport
}

describe('compactReport: a Tekton result stays under 4096 bytes', () => {
  test('two quay.io-length components with 4 tags: the full report is over the limit, the result is not', () => {
    const report = reportOf(2, 4)
    expect(Buffer.byteLength(JSON.stringify(report))).toBeGreaterThan(4096)
    const compact = compactReport(report)
    expect(Buffer.byteLength(JSON.stringify(compact))).toBeLessThanOrEqual(TEKTON_RESULT_BUDGET)
    expect(compact.images.map((i) => [i.component, i.digest, i.tags?.length])).toEqual([
      ['component-0', `sha256:${'0'.padStart(64, 'a')}`, 4],
      ['component-1', `sha256:${'1'.padStart(64, 'a')}`, 4],
    ])
    expect(compact.summary.moved).toBe(8)
  })

  test.each([
    [10, 4],
    [200, 8],
  ])('%i components × %i tags: tags, then images, give way and the count says how many', (components, tags) => {
    const compact = compactReport(reportOf(components, tags))
    expect(Buffer.byteLength(JSON.stringify(compact))).toBeLessThanOrEqual(TEKTON_RESULT_BUDGET)
    expect(compact.images.length + (compact.more ?? 0)).toBe(components)
    expect(compact.summary.moved).toBe(components * tags)
  })
})
