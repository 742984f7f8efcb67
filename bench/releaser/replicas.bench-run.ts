import { it } from 'vitest'
import { startPostgres } from '../../test/harness/postgres.js'
import { runSoak, type SoakOptions, type SoakReport } from '../../test/soak/soak-driver.js'

/**
 * Issue 18: the releaser beyond one machine. The same soak (registry faults, kill -9 of a random replica every few
 * seconds, three tags per repository) against: 3 replicas on one PostgreSQL journal; 1 replica on PostgreSQL (the
 * peer: same database, same code path); 1 replica on SQLite (the embedded default). Printed: events/s, event→tag
 * p50/p99, and the ratios to the 1-replica PostgreSQL run. Sizes: KG_REPLICAS_EVENTS, KG_REPLICAS_COMPONENTS.
 *   npm run build && npx vitest run --config bench/releaser/vitest.config.ts bench/releaser/replicas.bench-run.ts
 */
const events = Number(process.env.KG_REPLICAS_EVENTS ?? 2000)
const components = Number(process.env.KG_REPLICAS_COMPONENTS ?? 60)

const base: Omit<SoakOptions, 'seed'> = {
  components,
  buildsPerComponent: 6,
  events,
  malformed: Math.round(events / 20),
  senders: 32,
  tags: ['released', 'stable', 'latest'],
  faults: { unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1, reset: 0.02, slowMs: [0, 50] },
  killEveryMs: [3000, 6000],
  log: (line) => process.stderr.write(`${line}\n`),
}

function line(name: string, report: SoakReport, peer?: SoakReport): string {
  const ratio = peer
    ? `   x${(report.eventsPerSecond / peer.eventsPerSecond).toFixed(2)} events/s, p50 x${(report.latencyMs.p50 / peer.latencyMs.p50).toFixed(2)}, p99 x${(report.latencyMs.p99 / peer.latencyMs.p99).toFixed(2)}`
    : '   (peer)'
  return `${name.padEnd(26)} ${report.eventsPerSecond.toFixed(1).padStart(7)} events/s   event->tag p50 ${String(report.latencyMs.p50).padStart(6)} ms  p99 ${String(report.latencyMs.p99).padStart(6)} ms   kills ${report.kills}  lost ${report.accepted - (report.finalStates.released ?? 0)}  wrong ${report.wrongTags.length}  backwards ${report.backwardsObservations.length}  redundant PUTs ${report.redundantPuts}${ratio}`
}

it('releaser: 3 replicas on PostgreSQL vs 1', async () => {
  const postgres = await startPostgres()
  try {
    const one = await runSoak({ ...base, seed: 21, databaseUrl: await postgres.createDatabase(), replicas: 1 })
    const three = await runSoak({ ...base, seed: 21, databaseUrl: await postgres.createDatabase(), replicas: 3 })
    const sqlite = await runSoak({ ...base, seed: 21 })
    process.stdout.write(
      `${[
        `releaser replicas: ${events} events, ${components} components x 3 tags, faults + kill -9 every 3-6 s`,
        line('1 replica, PostgreSQL', one),
        line('3 replicas, PostgreSQL', three, one),
        line('1 replica, SQLite', sqlite, one),
      ].join('\n')}\n`,
    )
  } finally {
    await postgres.stop()
  }
})
