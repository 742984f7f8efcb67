import { afterAll, describe, expect, it } from 'vitest'
import { type PostgresServer, startPostgres } from '../harness/postgres.js'
import { runSoak } from './soak-driver.js'

/**
 * Three releaser processes on one PostgreSQL journal, behind the same registry faults as the single-replica soak,
 * with a random replica SIGKILLed and restarted every few seconds; webhooks go to any replica that is up.
 */
let postgres: PostgresServer | undefined
afterAll(async () => {
  await postgres?.stop()
})

describe('releaser soak: 3 replicas on PostgreSQL, faults and kill -9 of random replicas', () => {
  it('loses nothing, ends every tag at the newest Snapshot, never moves one back, no redundant PUT', async () => {
    postgres = await startPostgres()
    const report = await runSoak({
      components: 24,
      buildsPerComponent: 6,
      events: Number(process.env.KONFLUX_GITOPS_SOAK_EVENTS ?? 600),
      malformed: 60,
      killEveryMs: [1500, 3500],
      faults: { unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1, reset: 0.02, slowMs: [0, 20] },
      senders: 16,
      tags: ['released', 'stable', 'latest'],
      seed: Number(process.env.KONFLUX_GITOPS_SOAK_SEED ?? 8),
      databaseUrl: await postgres.createDatabase(),
      replicas: 3,
      claimTtlSeconds: 2,
    })
    console.log(`releaser soak (3 replicas, PostgreSQL): ${JSON.stringify(report)}`)
    expect(report.kills).toBeGreaterThan(0)
    expect(report.injected.unavailable).toBeGreaterThan(0)
    expect(report.pendingAfter).toBe(0)
    expect(report.finalStates).toEqual({ released: report.accepted })
    expect(report.wrongTags).toEqual([])
    expect(report.backwardsObservations).toEqual([])
    expect(report.redundantPuts).toBe(0)
    expect(report.secretLeaks).toEqual([])
    expect(report.healthyAfterMalformed).toBe(true)
  }, 180_000)
})
