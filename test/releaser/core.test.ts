import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffMs } from '../../src/registry/index.js'
import { isNewer, type Journal, RetagFailure } from '../../src/releaser/index.js'
import { Worker } from '../../src/releaser/worker.js'
import { JOURNAL_STORES } from './journal-stores.js'
import { MemoryExecutor, unavailable } from './memory-executor.js'

const REGISTRY = 'registry.test'

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

/** Accept a Snapshot named `name` whose components are built at `digestOf(name + component)`. */
function accept(journal: Journal, name: string, createdAt: string, components: string[], tags = ['released']) {
  return journal.accept({
    snapshot: name,
    namespace: 'acme-tenant',
    application: 'shop',
    createdAt,
    body: '{}',
    source: 'test',
    retags: components.flatMap((component) =>
      tags.map((tag) => ({
        component,
        source: `${REGISTRY}/acme/${component}@${digestOf(name + component)}`,
        registry: REGISTRY,
        repository: `${REGISTRY}/acme/${component}`,
        tag,
        digest: digestOf(name + component),
      })),
    ),
  })
}

async function drained(journal: Journal, worker: Worker, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await journal.pendingCount()) > 0 || worker.activeCount > 0) {
    if (Date.now() > deadline) throw new Error(`still ${await journal.pendingCount()} pending after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const FAST = { pollMs: 10, baseBackoffMs: 5, maxBackoffMs: 20 }

describe.each(JOURNAL_STORES)('releaser journal and worker (%s)', (_name, store) => {
  it('releases an accepted Snapshot once, however often it is posted', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      const first = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api', 'web'])
      const again = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api', 'web'])
      expect(again).toEqual({ id: first.id, duplicate: true })
      const worker = new Worker(journal, registry, FAST)
      worker.start()
      await drained(journal, worker)
      await worker.stop(1000)
      expect(registry.puts).toHaveLength(2)
      expect(registry.tags.get(`${REGISTRY}/acme/api:released`)).toBe(digestOf('shop-1api'))
      const release = (await journal.release(first.id))!
      expect(release.state).toBe('released')
      expect(release.retags.map((r) => r.state)).toEqual(['moved', 'moved'])
      expect(await journal.history({ component: 'web' })).toMatchObject([
        { action: 'moved', toDigest: digestOf('shop-1web') },
      ])
      await journal.close()
    })
  })

  it('never moves a tag back to an older Snapshot that arrives late', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      const worker = new Worker(journal, registry, FAST)
      worker.start()
      await accept(journal, 'shop-b', '2026-11-24T10:00:00.000Z', ['api'])
      await drained(journal, worker)
      const late = await accept(journal, 'shop-a', '2026-11-24T09:00:00.000Z', ['api'])
      worker.wake()
      await drained(journal, worker)
      await worker.stop(1000)
      expect(registry.tags.get(`${REGISTRY}/acme/api:released`)).toBe(digestOf('shop-bapi'))
      expect(registry.puts).toHaveLength(1)
      const release = (await journal.release(late.id))!
      expect(release.state).toBe('released')
      expect(release.retags[0]).toMatchObject({ state: 'superseded', lastError: expect.stringContaining('shop-b') })
      await journal.close()
    })
  })

  it('with the same creation time, the Snapshot name decides, the same way every time', () => {
    const a = { createdAt: '2026-11-24T09:00:00.000Z', snapshot: 'shop-a' }
    const b = { createdAt: '2026-11-24T09:00:00.000Z', snapshot: 'shop-b' }
    expect(isNewer(b, a)).toBe(true)
    expect(isNewer(a, b)).toBe(false)
    fc.assert(
      fc.property(
        fc.record({ createdAt: fc.constantFrom('2026-01-01', '2026-01-02'), snapshot: fc.constantFrom('x', 'y', 'z') }),
        fc.record({ createdAt: fc.constantFrom('2026-01-01', '2026-01-02'), snapshot: fc.constantFrom('x', 'y', 'z') }),
        (p, q) => {
          const same = p.createdAt === q.createdAt && p.snapshot === q.snapshot
          expect(isNewer(p, q) || isNewer(q, p) || same).toBe(true)
          expect(isNewer(p, q) && isNewer(q, p)).toBe(false)
        },
      ),
    )
  })

  it('retries a 503 with backoff and honours Retry-After', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      registry.fault = (_request, call) => {
        if (call === 1) throw unavailable(300)
        if (call === 2) throw unavailable()
      }
      const worker = new Worker(journal, registry, FAST)
      const started = Date.now()
      const { id } = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api'])
      worker.start()
      await drained(journal, worker)
      await worker.stop(1000)
      expect(Date.now() - started).toBeGreaterThanOrEqual(300)
      expect((await journal.release(id))!.retags[0]).toMatchObject({ state: 'moved', attempts: 3 })
      await journal.close()
    })
  })

  it('marks a retag failed after the attempt limit, keeps it visible, and retry finishes it', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      registry.fault = () => {
        throw unavailable()
      }
      const worker = new Worker(journal, registry, { ...FAST, maxAttempts: 3 })
      const { id } = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api', 'web'])
      worker.start()
      await drained(journal, worker)
      const failed = (await journal.release(id))!
      expect(failed.state).toBe('failed')
      expect(failed.retags.map((r) => [r.state, r.attempts, r.lastError])).toEqual([
        ['failed', 3, '503 Service Unavailable'],
        ['failed', 3, '503 Service Unavailable'],
      ])
      expect(await journal.failedReleaseIds()).toEqual([id])
      registry.fault = undefined
      expect(await journal.retry(id)).toBe(2)
      worker.wake()
      await drained(journal, worker)
      await worker.stop(1000)
      expect((await journal.release(id))!.state).toBe('released')
      expect(registry.puts).toHaveLength(2)
      await journal.close()
    })
  })

  it('does not retry an answer that waiting will not change', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      registry.fault = () => {
        throw new RetagFailure('manifest unknown', { retryable: false, status: 404 })
      }
      const worker = new Worker(journal, registry, FAST)
      const { id } = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api'])
      worker.start()
      await drained(journal, worker)
      await worker.stop(1000)
      expect((await journal.release(id))!.retags[0]).toMatchObject({ state: 'failed', attempts: 1 })
      await journal.close()
    })
  })

  it('abandons an attempt the registry never answers and counts it as failed', async () => {
    await store.withJournal(async (open) => {
      const journal = await open()
      const registry = new MemoryExecutor()
      registry.delayMs = 5_000
      const worker = new Worker(journal, registry, { ...FAST, attemptTimeoutMs: 100, maxAttempts: 2 })
      const { id } = await accept(journal, 'shop-1', '2026-11-24T09:00:00.000Z', ['api'])
      worker.start()
      await drained(journal, worker)
      await worker.stop(1000)
      expect((await journal.release(id))!.retags[0]).toMatchObject({
        state: 'failed',
        attempts: 2,
        lastError: 'no answer within 100 ms',
      })
      expect(registry.puts).toHaveLength(0)
      await journal.close()
    })
  })

  it('parks in-flight work on shutdown and finishes it after a restart, without a second PUT', async () => {
    await store.withJournal(async (open) => {
      let journal = await open()
      const registry = new MemoryExecutor()
      registry.delayMs = 200
      const ids: string[] = []
      for (const [i, c] of ['api', 'web', 'db'].entries()) {
        ids.push((await accept(journal, `shop-${i}`, `2026-11-24T09:0${i}:00.000Z`, [c])).id)
      }
      let worker = new Worker(journal, registry, FAST)
      worker.start()
      // All three in flight (each takes 200 ms at the registry), however slow the machine is to claim them.
      const deadline = Date.now() + 5000
      while (worker.activeCount < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await worker.stop(0)).toBe(3)
      await journal.close()
      expect(registry.puts).toHaveLength(0)

      // A retag that reached the registry just before a crash, but was never recorded:
      await registry.retag(
        {
          registry: REGISTRY,
          source: `${REGISTRY}/acme/api@${digestOf('shop-0api')}`,
          repository: `${REGISTRY}/acme/api`,
          tag: 'released',
          digest: digestOf('shop-0api'),
        },
        new AbortController().signal,
      )
      registry.delayMs = 0
      journal = await open()
      expect(await journal.pendingCount()).toBe(3)
      worker = new Worker(journal, registry, FAST)
      worker.start()
      await drained(journal, worker)
      await worker.stop(1000)
      const states = await Promise.all(ids.map(async (id) => (await journal.release(id))!.state))
      expect(states).toEqual(['released', 'released', 'released'])
      expect(registry.puts).toHaveLength(3)
      expect((await journal.history({ component: 'api' }))[0]).toMatchObject({ action: 'already' })
      await journal.close()
    })
  })

  it('backoff doubles with jitter, is capped, and never undercuts Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, retryAfter, random) => {
          const options = { baseMs: 250, maxMs: 30_000 }
          const delay = backoffMs(attempt, options, retryAfter, () => random)
          const ceiling = Math.min(30_000, 250 * 2 ** (attempt - 1))
          expect(delay).toBeGreaterThanOrEqual(Math.min(retryAfter ?? 0, 300_000))
          expect(delay).toBeLessThanOrEqual(Math.max(ceiling, Math.min(retryAfter ?? 0, 300_000)))
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2))
        },
      ),
    )
  })

  it('for any arrival order and faults, each tag ends at the newest Snapshot and never moves back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            minute: fc.integer({ min: 0, max: 9 }),
            components: fc.subarray(['api', 'web', 'db'], { minLength: 1 }),
            restartAfter: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (events, seed) => {
          await store.withJournal(async (open) => {
            let journal = await open()
            const registry = new MemoryExecutor()
            let state = seed
            registry.fault = () => {
              state = (state * 1103515245 + 12345) % 2 ** 31
              if (state % 5 === 0) throw unavailable()
            }
            let worker = new Worker(journal, registry, { ...FAST, maxAttempts: 50 })
            worker.start()
            const newest = new Map<string, { createdAt: string; snapshot: string }>()
            for (const [index, event] of events.entries()) {
              const snapshot = { snapshot: `shop-${index}`, createdAt: `2026-11-24T09:0${event.minute}:00.000Z` }
              await accept(journal, snapshot.snapshot, snapshot.createdAt, event.components)
              worker.wake()
              for (const component of event.components) {
                const current = newest.get(component)
                if (!current || isNewer(snapshot, current)) newest.set(component, snapshot)
              }
              if (event.restartAfter) {
                await worker.stop(0)
                await journal.close()
                journal = await open()
                worker = new Worker(journal, registry, { ...FAST, maxAttempts: 50 })
                worker.start()
              } else await new Promise((resolve) => setImmediate(resolve))
            }
            await drained(journal, worker)
            await worker.stop(1000)
            const snapshotOf = (index: number) => ({
              snapshot: `shop-${index}`,
              createdAt: `2026-11-24T09:0${events[index]!.minute}:00.000Z`,
            })
            for (const [component, snapshot] of newest) {
              const target = `${REGISTRY}/acme/${component}:released`
              expect(registry.tags.get(target)).toBe(digestOf(snapshot.snapshot + component))
              // Every PUT to this tag was for a strictly newer Snapshot than the PUT before it.
              const moved = registry.puts
                .filter((put) => put.target === target)
                .map((put) => events.findIndex((_, i) => digestOf(`shop-${i}${component}`) === put.digest))
              for (let i = 1; i < moved.length; i++) {
                expect(isNewer(snapshotOf(moved[i]!), snapshotOf(moved[i - 1]!))).toBe(true)
              }
            }
            expect((await journal.counts()).events.pending).toBe(0)
            await journal.close()
          })
        },
      ),
      // Each run is a new journal: a new PostgreSQL database costs more than a new SQLite file.
      { numRuns: _name === 'postgres' ? 8 : 25 },
    )
  })
})
