import { createHash } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { it } from 'vitest'
import { type Journal, openJournal, RetagFailure } from '../../src/releaser/index.js'
import { Worker } from '../../src/releaser/worker.js'
import { startPostgres } from '../../test/harness/postgres.js'
import { withTempDir } from '../../test/helpers/cli.js'
import { MemoryExecutor } from '../../test/releaser/memory-executor.js'

/**
 * Issue 17: one big Snapshot through the journal and the real Worker (registry = a Map that refuses every image,
 * as test/soak/big-snapshot.test.ts's empty registry does). Printed per store: settle time, cost per settled step,
 * and the worst event-loop stall while the steps are worked (what /healthz would wait for). Peer in the same run:
 * the same store with a Snapshot a tenth the size; per-step cost at N over per-step cost at N/10 is ~1 when a
 * settle is O(1)/O(log n) in the release's size and ~10 when it rescans the release.
 *   npx vitest run --config bench/releaser/vitest.config.ts bench/releaser/journal.bench-run.ts
 * Size: KG_JOURNAL_STEPS (default 10000). Stores: KG_JOURNAL_STORES=sqlite,postgres.
 *
 * 2026-12-06, 2 shared cores (load 5-14), before -> after migration 3 and the bounded claim walk:
 *   sqlite   10,000 steps: settled 29.4 s -> 4.6 s; CPU per step vs 1,000 steps x9.82 -> x0.90
 *   postgres  4,000 steps: settled 60.4 s -> 18.9 s; wall per step vs 400 steps x5.25 -> x1.18 (CPU x0.86);
 *            10,000 steps after: 25.3 s, x0.67 wall / x0.78 CPU of 1,000
 *   test/soak/big-snapshot.test.ts (daemon, 10,000 components, SQLite): settled 212 s -> 12-50 s (load-dependent),
 *            /healthz worst overall 1645 ms -> 263-737 ms, peak RSS 354-365 MiB both
 */
const STEPS = Number(process.env.KG_JOURNAL_STEPS ?? 10_000)
const STORES = (process.env.KG_JOURNAL_STORES ?? 'sqlite,postgres').split(',')
const REGISTRY = 'registry.test'

interface Run {
  steps: number
  acceptMs: number
  settleMs: number
  perStepUs: number
  /** This process's CPU per step (the machine may be busy with other work; this is not). */
  cpuPerStepUs: number
  worstStallMs: number
  state: string
}

async function bigRelease(journal: Journal, steps: number): Promise<Run> {
  const retags = Array.from({ length: steps }, (_, i) => {
    const digest = `sha256:${createHash('sha256').update(String(i)).digest('hex')}`
    return {
      component: `c${i}`,
      source: `${REGISTRY}/acme/c${i}@${digest}`,
      registry: REGISTRY,
      repository: `${REGISTRY}/acme/c${i}`,
      tag: 'released',
      digest,
    }
  })
  const registry = new MemoryExecutor()
  registry.fault = () => {
    throw new RetagFailure('manifest unknown', { retryable: false, status: 404 })
  }
  const acceptStarted = performance.now()
  const { id } = await journal.accept({
    snapshot: `big-${steps}`,
    namespace: 'acme-tenant',
    application: 'shop',
    createdAt: '2026-11-24T09:00:00.000Z',
    body: '{}',
    source: 'bench',
    retags,
  })
  const acceptMs = performance.now() - acceptStarted
  const cpu = process.cpuUsage()
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  const started = performance.now()
  const worker = new Worker(journal, registry, { maxAttempts: 1, pollMs: 250 })
  worker.start()
  let state = 'pending'
  // Polled as test/soak/big-snapshot.test.ts polls GET /v1/releases/ID: the view is part of the cost.
  while (state === 'pending') {
    await new Promise((resolve) => setTimeout(resolve, 250))
    state = (await journal.release(id))!.state
  }
  const settleMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  delay.disable()
  await worker.stop(1000)
  return {
    steps,
    acceptMs,
    settleMs,
    perStepUs: (settleMs * 1000) / steps,
    cpuPerStepUs: (used.user + used.system) / steps,
    worstStallMs: delay.max / 1e6,
    state,
  }
}

function line(store: string, run: Run, peer?: Run): string {
  const ratio = peer
    ? `   per step x${(run.perStepUs / peer.perStepUs).toFixed(2)} wall, x${(run.cpuPerStepUs / peer.cpuPerStepUs).toFixed(2)} CPU of ${peer.steps}`
    : '   (peer)'
  return `${store.padEnd(9)} ${String(run.steps).padStart(6)} steps  accept ${Math.round(run.acceptMs).toString().padStart(6)} ms  settled (${run.state}) after ${Math.round(run.settleMs).toString().padStart(7)} ms  ${run.perStepUs.toFixed(0).padStart(6)} us/step (CPU ${run.cpuPerStepUs.toFixed(0)} us)  worst event-loop stall ${run.worstStallMs.toFixed(0).padStart(5)} ms${ratio}`
}

it('releaser journal: settling one big Snapshot', async () => {
  const lines: string[] = []
  for (const store of STORES) {
    const runs: Run[] = []
    for (const steps of [Math.round(STEPS / 10), STEPS]) {
      if (store === 'sqlite') {
        runs.push(
          await withTempDir(async (dir) => {
            const journal = await openJournal({ stateDir: dir })
            try {
              return await bigRelease(journal, steps)
            } finally {
              await journal.close()
            }
          }),
        )
      } else {
        const postgres = await startPostgres()
        try {
          const journal = await openJournal({ databaseUrl: await postgres.createDatabase() })
          try {
            runs.push(await bigRelease(journal, steps))
          } finally {
            await journal.close()
          }
        } finally {
          await postgres.stop()
        }
      }
      process.stderr.write(`${line(store, runs.at(-1)!, runs.length > 1 ? runs[0] : undefined)}\n`)
    }
    lines.push(line(store, runs[0]!), line(store, runs[1]!, runs[0]))
  }
  process.stdout.write(
    `releaser journal, one Snapshot of N retags, every retag refused by the registry:\n${lines.join('\n')}\n`,
  )
})
