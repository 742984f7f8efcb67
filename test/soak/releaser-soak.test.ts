import { describe, expect, it } from 'vitest'
import { runSoak } from './soak-driver.js'

/**
 * Reduced-size soak for CI (full size: bench/releaser). Real registry behind 10 % 503, 5 % 429 with Retry-After,
 * 2 % reset connections and slow answers; the daemon is SIGKILLed and restarted every few seconds.
 */
describe('releaser soak under registry faults and kill -9', () => {
  it('completes every accepted event, ends each of three tags per repository at the newest Snapshot, never moves one back', async () => {
    const report = await runSoak({
      components: 24,
      buildsPerComponent: 6,
      events: Number(process.env.KONFLUX_GITOPS_SOAK_EVENTS ?? 1200),
      malformed: 240,
      killEveryMs: [1500, 3500],
      faults: { unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1, reset: 0.02, slowMs: [0, 20] },
      senders: 16,
      tags: ['released', 'stable', 'latest'],
      seed: Number(process.env.KONFLUX_GITOPS_SOAK_SEED ?? 7),
    })
    console.log(`releaser soak (reduced): ${JSON.stringify(report)}`)
    expect(report.kills).toBeGreaterThan(0)
    expect(report.injected.unavailable).toBeGreaterThan(0)
    expect(report.injected.tooManyRequests).toBeGreaterThan(0)
    expect(report.injected.reset).toBeGreaterThan(0)
    expect(report.pendingAfter).toBe(0)
    expect(report.finalStates).toEqual({ released: report.accepted })
    expect(report.wrongTags).toEqual([])
    expect(report.backwardsObservations).toEqual([])
    expect(report.samples).toBeGreaterThan(100)
    expect(report.redundantPuts).toBe(0)
    expect(report.secretLeaks).toEqual([])
    expect(report.healthyAfterMalformed).toBe(true)
    const statuses = Object.keys(report.malformedAnswers).map(Number)
    expect(statuses.every((status) => status >= 400 && status < 500)).toBe(true)
    expect(Object.values(report.malformedAnswers).reduce((a, b) => a + b, 0)).toBe(240)
  }, 120_000)
})
