import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  isNewer,
  type Journal,
  openJournal,
  type RetagExecutor,
  type RetagOutcome,
  type RetagRequest,
} from '../../src/releaser/index.js'
import { Worker } from '../../src/releaser/worker.js'
import { testPostgres } from './journal-stores.js'
import { MemoryExecutor } from './memory-executor.js'

/**
 * Several replicas on one PostgreSQL journal, in one process: each has its own journal (connection pool, claim
 * owner) and worker, as separate pods would. The registry is one MemoryExecutor behind a probe per replica that
 * records who wrote which repository when.
 */
const REGISTRY = 'registry.test'
const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`
const FAST = { pollMs: 10, baseBackoffMs: 5, maxBackoffMs: 20 }

class Probe implements RetagExecutor {
  calls = 0
  hang = false
  constructor(
    private readonly registry: MemoryExecutor,
    private readonly writing: Map<string, string>,
    private readonly overlaps: string[],
    readonly name: string,
  ) {}

  async retag(request: RetagRequest, signal: AbortSignal): Promise<RetagOutcome> {
    this.calls++
    // A replica killed mid-step: it never answers and never writes (kill -9 leaves nothing running).
    if (this.hang) return new Promise<never>(() => {})
    const other = this.writing.get(request.repository)
    if (other !== undefined) this.overlaps.push(`${request.repository}: ${this.name} while ${other}`)
    this.writing.set(request.repository, this.name)
    try {
      await new Promise((resolve) => setTimeout(resolve, 2))
      return await this.registry.retag(request, signal)
    } finally {
      this.writing.delete(request.repository)
    }
  }

  async reachable(): Promise<boolean> {
    return true
  }
}

const open: Array<{ journal: Journal; worker: Worker; renew?: NodeJS.Timeout }> = []
afterEach(async () => {
  for (const replica of open.splice(0)) {
    clearInterval(replica.renew)
    await replica.worker.stop(100)
    await replica.journal.close()
  }
})

async function replica(url: string, executor: RetagExecutor, options: { claimTtlMs: number; renew: boolean }) {
  const journal = await openJournal({ databaseUrl: url }, { claimTtlMs: options.claimTtlMs })
  const worker = new Worker(journal, executor, FAST)
  const entry: { journal: Journal; worker: Worker; renew?: NodeJS.Timeout } = { journal, worker }
  // What the daemon does for a live replica; a dead one renews nothing.
  if (options.renew) entry.renew = setInterval(() => void journal.renewClaims(), options.claimTtlMs / 3)
  open.push(entry)
  return entry
}

function accept(journal: Journal, name: string, createdAt: string, components: string[], tags: string[]) {
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

async function drained(journal: Journal, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await journal.pendingCount()) > 0) {
    if (Date.now() > deadline) throw new Error(`still ${await journal.pendingCount()} pending`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('replicas on one PostgreSQL journal', () => {
  it('share one queue: newest wins across replicas, a repository is written by one replica at a time, each works', async () => {
    const url = await (await testPostgres()).createDatabase()
    const registry = new MemoryExecutor()
    const writing = new Map<string, string>()
    const overlaps: string[] = []
    const probes = ['a', 'b', 'c'].map((name) => new Probe(registry, writing, overlaps, name))
    const replicas = []
    for (const probe of probes) replicas.push(await replica(url, probe, { claimTtlMs: 10_000, renew: true }))
    for (const { worker } of replicas) worker.start()

    // 90 Snapshots over 6 components and 2 tags, accepted by whichever replica, in no particular order of age.
    const components = ['api', 'web', 'db', 'auth', 'cart', 'pay']
    const snapshots: Array<{ snapshot: string; createdAt: string; components: string[] }> = []
    let seed = 17
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let i = 0; i < 90; i++) {
      const picked = components.filter(() => random() < 0.4)
      const s = {
        snapshot: `shop-${i}`,
        createdAt: new Date(Date.parse('2026-11-24T09:00:00Z') + Math.floor(random() * 60) * 60_000).toISOString(),
        components: picked.length > 0 ? picked : ['api'],
      }
      snapshots.push(s)
      const { journal, worker } = replicas[i % 3]!
      await accept(journal, s.snapshot, s.createdAt, s.components, ['released', 'stable'])
      worker.wake()
    }
    await drained(replicas[0]!.journal)

    expect(overlaps).toEqual([])
    for (const probe of probes) expect(probe.calls).toBeGreaterThan(0)
    for (const component of components) {
      const candidates = snapshots.filter((s) => s.components.includes(component))
      if (candidates.length === 0) continue
      const newest = candidates.reduce((a, b) => (isNewer(b, a) ? b : a))
      for (const tag of ['released', 'stable']) {
        const target = `${REGISTRY}/acme/${component}:${tag}`
        expect(registry.tags.get(target)).toBe(digestOf(newest.snapshot + component))
        // Every PUT to a tag was for a strictly newer Snapshot than the one before it (no tag ever moved back).
        const order = registry.puts
          .filter((put) => put.target === target)
          .map((put) => candidates.find((s) => digestOf(s.snapshot + component) === put.digest)!)
        for (let i = 1; i < order.length; i++) expect(isNewer(order[i]!, order[i - 1]!)).toBe(true)
      }
    }
    expect((await replicas[1]!.journal.counts()).events.pending).toBe(0)
  })

  it('a replica killed mid-step loses nothing: its claims expire and another replica finishes them, once', async () => {
    const url = await (await testPostgres()).createDatabase()
    const registry = new MemoryExecutor()
    const writing = new Map<string, string>()
    const overlaps: string[] = []
    const dying = new Probe(registry, writing, overlaps, 'dying')
    dying.hang = true
    const a = await replica(url, dying, { claimTtlMs: 500, renew: false })
    a.worker.start()
    const ids: string[] = []
    for (const [i, component] of ['api', 'web', 'db'].entries()) {
      ids.push((await accept(a.journal, `shop-${i}`, `2026-11-24T09:0${i}:00.000Z`, [component], ['released'])).id)
    }
    a.worker.wake()
    const deadline = Date.now() + 5000
    while (dying.calls < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(dying.calls).toBe(3)
    const claimedAt = Date.now()
    // kill -9: the replica claims nothing more and writes nothing more; its journal is not closed (no claims given back).
    await a.worker.stop(0)

    // Replica b comes up (or was there all along): it waits for the dead claims to expire, then does the work.
    const survivor = new Probe(registry, writing, overlaps, 'survivor')
    const b = await replica(url, survivor, { claimTtlMs: 500, renew: true })
    b.worker.start()
    await drained(b.journal)
    // Not before the claims expired (500 ms after they were taken): b never ran a step a live replica held.
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(400)
    expect(registry.puts.map((put) => put.target).sort()).toEqual([
      `${REGISTRY}/acme/api:released`,
      `${REGISTRY}/acme/db:released`,
      `${REGISTRY}/acme/web:released`,
    ])
    for (const id of ids) {
      const release = (await b.journal.release(id))!
      expect(release.state).toBe('released')
      // One attempt started by the dead replica, one by the survivor.
      expect(release.retags[0]).toMatchObject({ state: 'moved', attempts: 2 })
    }
  })
})

describe('a replica restarted under the same --replica-id', () => {
  it('takes back the steps its killed run had claimed at once, without waiting for the claims to expire', async () => {
    const url = await (await testPostgres()).createDatabase()
    const registry = new MemoryExecutor()
    const writing = new Map<string, string>()
    const overlaps: string[] = []
    const killed = new Probe(registry, writing, overlaps, 'killed')
    killed.hang = true
    const first = await openJournal({ databaseUrl: url }, { claimTtlMs: 60_000, replicaId: 'releaser-7f9c' })
    const worker = new Worker(first, killed, FAST)
    open.push({ journal: first, worker })
    worker.start()
    await accept(first, 'shop-1', '2026-11-24T09:00:00.000Z', ['api', 'web'], ['released'])
    worker.wake()
    const deadline = Date.now() + 5000
    while (killed.calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    await worker.stop(0)

    // Another replica does not touch them (they are claimed for a minute)…
    const other = await replica(url, new Probe(registry, writing, overlaps, 'other'), {
      claimTtlMs: 60_000,
      renew: true,
    })
    expect(await other.journal.claimRetags(10)).toEqual([])
    // …the same replica's next run does, at once.
    const again = await openJournal({ databaseUrl: url }, { claimTtlMs: 60_000, replicaId: 'releaser-7f9c' })
    const restarted = new Worker(again, new Probe(registry, writing, overlaps, 'restarted'), FAST)
    open.push({ journal: again, worker: restarted })
    const started = Date.now()
    restarted.start()
    await drained(again, 5000)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(registry.puts).toHaveLength(2)
  })
})
