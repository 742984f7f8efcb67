/**
 * The releaser soak: the real registry behind a fault-injecting proxy, the real daemon process killed with
 * SIGKILL at random moments and restarted, thousands of signed webhook events over many components with older
 * and newer Snapshots interleaved, and malformed requests mixed in. Used by test/soak (reduced size, asserted)
 * and bench/releaser (full size, figures printed).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openJournal, signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry } from '../harness/registry.js'
import { type DaemonProcess, startDaemon } from '../releaser/daemon-process.js'
import { snapshotBody } from '../releaser/snapshots.js'
import { type RandomFaults, seededRandom, startRandomFaultProxy } from './random-fault-proxy.js'

export interface SoakOptions {
  components: number
  buildsPerComponent: number
  events: number
  malformed: number
  /** SIGKILL the daemon every this many ms (random in the range); undefined: never. */
  killEveryMs?: [number, number]
  faults: RandomFaults
  senders: number
  seed: number
  /** Tags every Snapshot moves in each repository (several: the engine's per-repository lane is exercised). */
  tags?: string[]
  /**
   * A PostgreSQL journal shared by `replicas` daemons (default: SQLite under --state, one daemon). The URL reaches
   * the daemons through KONFLUX_GITOPS_DATABASE_URL; its password must appear in no log.
   */
  databaseUrl?: string
  replicas?: number
  /** With databaseUrl: --claim-ttl (seconds) of every replica. */
  claimTtlSeconds?: number
  log?: (line: string) => void
}

export interface SoakReport {
  accepted: number
  duplicatesAnswered: number
  kills: number
  malformedAnswers: Record<string, number>
  durationMs: number
  eventsPerSecond: number
  latencyMs: { p50: number; p99: number; max: number }
  finalStates: Record<string, number>
  wrongTags: string[]
  backwardsObservations: string[]
  samples: number
  redundantPuts: number
  manifestPuts: number
  injected: { unavailable: number; tooManyRequests: number; reset: number }
  secretLeaks: string[]
  healthyAfterMalformed: boolean
  pendingAfter: number
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {})
  const tags = options.tags ?? ['released']
  const random = seededRandom(options.seed)
  const dir = await mkdtemp(join(tmpdir(), 'kg-soak-'))
  const registry = await startRegistry({ auth: 'token' })
  const proxy = await startRandomFaultProxy({ upstream: registry.url, ca: registry.caPem, seed: options.seed })
  const replicas = options.databaseUrl ? (options.replicas ?? 1) : 1
  const daemons: Array<DaemonProcess | undefined> = Array.from({ length: replicas }, () => undefined)
  const stderrOfAllRuns: string[] = []
  try {
    const secret = `soak-secret-${options.seed}-${Math.floor(random() * 1e9)}`
    const secretFile = join(dir, 'secret')
    await writeFile(secretFile, secret)
    const dockerDir = join(dir, 'docker')
    await mkdir(dockerDir)
    const basic = Buffer.from(`${registry.username}:${registry.password}`).toString('base64')
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: basic } } }))
    const state = join(dir, 'state')
    const location = options.databaseUrl ? { databaseUrl: options.databaseUrl } : { stateDir: state }
    const env = {
      ...registry.env,
      DOCKER_CONFIG: dockerDir,
      KONFLUX_GITOPS_PLAIN_HTTP: proxy.host,
      KONFLUX_GITOPS_WEBHOOK_SECRET: undefined,
      KONFLUX_GITOPS_DATABASE_URL: options.databaseUrl,
    }

    // Builds: component c, build b → one image; later builds have later Snapshot creation times.
    const digests: string[][] = []
    const buildOf = new Map<string, number>()
    const pushes: Array<() => Promise<void>> = []
    for (let c = 0; c < options.components; c++) {
      digests.push([])
      for (let b = 0; b < options.buildsPerComponent; b++) {
        pushes.push(async () => {
          // Build b of every component was built in hour b: the image's own build time agrees with Snapshot order.
          const created = new Date(Date.parse('2026-11-24T00:00:00Z') + b * 3_600_000).toISOString()
          const digest = await registry.pushImage(`soak/c${c}`, undefined, { seed: `c${c}-b${b}`, created })
          digests[c]![b] = digest
          buildOf.set(digest, b)
        })
      }
    }
    // One repository at a time per worker: Debian's registry corrupts under concurrent writes to one repository.
    const byComponent = Array.from({ length: options.components }, (_, c) =>
      pushes.slice(c * options.buildsPerComponent, (c + 1) * options.buildsPerComponent),
    )
    let nextComponent = 0
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (nextComponent < byComponent.length) {
          for (const push of byComponent[nextComponent++]!) await push()
        }
      }),
    )
    log(`pushed ${pushes.length} images`)

    interface SoakEvent {
      name: string
      component: number
      build: number
      createdAt: string
      body: string
    }
    const base = Date.parse('2026-11-24T00:00:00Z')
    const events: SoakEvent[] = []
    for (let i = 0; i < options.events; i++) {
      const component = Math.floor(random() * options.components)
      // Builds come in roughly in order as the run goes on; a third of the events are older Snapshots arriving late.
      const current = Math.floor((i / options.events) * options.buildsPerComponent)
      const build = random() < 0.33 ? Math.max(0, current - 1 - Math.floor(random() * 2)) : current
      const createdAt = new Date(base + build * 3_600_000 + Math.floor(random() * 3_000_000)).toISOString()
      const name = `c${component}-b${build}-e${i}`
      const image = `${proxy.host}/soak/c${component}@${digests[component]![build]}`
      events.push({
        name,
        component,
        build,
        createdAt,
        body: snapshotBody(name, createdAt, [{ name: `c${component}`, image }]),
      })
    }
    // Some Snapshots are delivered twice (webhook redelivery): still one release each.
    for (let i = 0; i < options.events / 20; i++) events.push(events[Math.floor(random() * options.events)]!)
    const newest = new Map<number, SoakEvent>()
    for (const event of events) {
      const current = newest.get(event.component)
      if (
        !current ||
        event.createdAt > current.createdAt ||
        (event.createdAt === current.createdAt && event.name > current.name)
      )
        newest.set(event.component, event)
    }

    const start = async (index: number) => {
      const port = await freePort()
      daemons[index] = await startDaemon(
        [
          ...(options.databaseUrl
            ? ['--claim-ttl', String(options.claimTtlSeconds ?? 2)]
            : ['--state', state, '--init-state']),
          ...['--allow-source', `${proxy.host}/soak/`],
          '--webhook-secret-file',
          secretFile,
          '--concurrency',
          '16',
          '--max-attempts',
          '30',
          '--shutdown-timeout',
          '5',
          ...tags.flatMap((tag) => ['--tag', tag]),
        ],
        { port, env: { ...env, KONFLUX_GITOPS_REPLICA_ID: options.databaseUrl ? `replica-${index}` : undefined } },
      )
    }
    for (let i = 0; i < replicas; i++) await start(i)
    proxy.setFaults(options.faults)

    let kills = 0
    let stopped = false
    let restarting: Promise<void> | undefined
    const killer = (async () => {
      if (!options.killEveryMs) return
      const [min, max] = options.killEveryMs
      while (!stopped) {
        await sleep(min + random() * (max - min))
        if (stopped) break
        const index = Math.floor(random() * replicas)
        const victim = daemons[index]!
        daemons[index] = undefined
        restarting = (async () => {
          victim.kill('SIGKILL')
          await victim.exited
          stderrOfAllRuns.push(victim.stderr())
          kills++
          await start(index)
        })()
        await restarting
        restarting = undefined
      }
    })()

    /** A replica that is up, picked at random (a load balancer in front of the replicas). */
    const anyDaemon = (): DaemonProcess | undefined => {
      const up = daemons.filter((d): d is DaemonProcess => d !== undefined)
      return up[Math.floor(random() * up.length)]
    }

    /** POST until a daemon answers (with one replica it may be down between a kill and its restart). */
    async function send(body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
      for (let attempt = 0; ; attempt++) {
        let target = anyDaemon()
        if (!target && restarting) {
          await restarting
          target = anyDaemon()
        }
        try {
          if (!target) throw new Error('no replica up')
          const res = await fetch(`${target.url}/v1/snapshots`, { method: 'POST', headers, body })
          const json = await res.json().catch(() => undefined)
          if (res.status === 503) throw new Error('shutting down')
          return { status: res.status, json }
        } catch (error) {
          if (attempt > 400) throw error
          await sleep(25)
        }
      }
    }

    // Sampler: read tags straight from the registry and check no tag ever goes back to an older build.
    const lastSeen = new Map<string, number>()
    const backwards: string[] = []
    let samples = 0
    const sampler = (async () => {
      while (!stopped) {
        const component = Math.floor(random() * options.components)
        const tag = tags[Math.floor(random() * tags.length)]!
        const digest = await registry.resolveTag(`soak/c${component}`, tag).catch(() => undefined)
        samples++
        if (digest !== undefined) {
          const build = buildOf.get(digest)
          const key = `c${component}:${tag}`
          const before = lastSeen.get(key)
          if (build === undefined) backwards.push(`${key}: unknown digest ${digest}`)
          else if (before !== undefined && build < before) backwards.push(`${key}: build ${before} then ${build}`)
          else lastSeen.set(key, build)
        }
        await sleep(5)
      }
    })()

    // Malformed or unsigned requests, mixed with the good ones.
    const malformedAnswers: Record<string, number> = {}
    const badRequests: Array<() => Promise<number>> = []
    for (let i = 0; i < options.malformed; i++) {
      const event = events[i % events.length]!
      const kind = i % 6
      badRequests.push(async () => {
        const good = { 'content-type': 'application/json' }
        switch (kind) {
          case 0:
            return (await send(event.body, good)).status
          case 1:
            return (await send(event.body, { ...good, 'x-signature-256': signBody('not-the-secret', event.body) }))
              .status
          case 2: {
            const garbage = `{"kind": "Snapshot", "oops": ${i}`
            return (await send(garbage, { ...good, 'x-signature-256': signBody(secret, garbage) })).status
          }
          case 3: {
            const failing = event.body
              .replace('"status":"True"', '"status":"False"')
              .replace(event.name, `${event.name}-f`)
            return (await send(failing, { ...good, 'x-signature-256': signBody(secret, failing) })).status
          }
          case 4:
            return (
              await send(event.body, { 'content-type': 'text/plain', 'x-signature-256': signBody(secret, event.body) })
            ).status
          default: {
            const big = `${event.body}${' '.repeat(1024 * 1024 + 1)}`
            return (await send(big, { ...good, 'x-signature-256': signBody(secret, big) })).status
          }
        }
      })
    }

    const accepted = new Map<string, string>()
    let duplicatesAnswered = 0
    const work: Array<() => Promise<void>> = events.map((event) => async () => {
      const res = await send(event.body, {
        'content-type': 'application/json',
        'x-signature-256': signBody(secret, event.body),
      })
      const json = res.json as { id?: string; duplicate?: boolean; error?: string }
      if ((res.status !== 202 && res.status !== 200) || !json?.id) {
        throw new Error(`event ${event.name}: HTTP ${res.status} ${JSON.stringify(json)}`)
      }
      if (json.duplicate) duplicatesAnswered++
      const previous = accepted.get(event.name)
      if (previous !== undefined && previous !== json.id) throw new Error(`event ${event.name}: two release ids`)
      accepted.set(event.name, json.id)
    })
    for (let i = 0; i < badRequests.length; i++) {
      const bad = badRequests[i]!
      work.splice(Math.floor(random() * work.length), 0, async () => {
        const status = await bad()
        malformedAnswers[status] = (malformedAnswers[status] ?? 0) + 1
      })
    }

    const started = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: options.senders }, async () => {
        while (next < work.length) await work[next++]!()
      }),
    )
    log(`posted ${events.length} events and ${badRequests.length} malformed requests`)
    if (restarting) await restarting
    const healthy = await fetch(`${anyDaemon()!.url}/healthz`)
      .then((res) => res.ok)
      .catch(() => false)

    // Wait until the journal has nothing pending (kills continue meanwhile).
    const deadline = Date.now() + 10 * 60_000
    for (;;) {
      const reader = await openJournal(location, { create: false })
      const pending = await reader.pendingCount()
      await reader.close()
      if (pending === 0) break
      if (Date.now() > deadline) throw new Error(`soak: ${pending} retags still pending`)
      await sleep(100)
    }
    const durationMs = performance.now() - started
    stopped = true
    await killer
    await sampler
    proxy.setFaults({})
    for (const [index, running] of daemons.entries()) {
      if (!running) continue
      running.kill('SIGTERM')
      await running.exited
      stderrOfAllRuns.push(running.stderr())
      daemons[index] = undefined
    }

    const journal = await openJournal(location, { create: false })
    const finalStates: Record<string, number> = {}
    const latencies: number[] = []
    for (const id of new Set(accepted.values())) {
      const release = (await journal.release(id))!
      finalStates[release.state] = (finalStates[release.state] ?? 0) + 1
      if (release.finishedAt && release.retags.some((r) => r.state === 'moved' || r.state === 'already')) {
        latencies.push(Date.parse(release.finishedAt) - Date.parse(release.receivedAt))
      }
    }
    const pendingAfter = await journal.pendingCount()
    await journal.close()
    latencies.sort((a, b) => a - b)

    const wrongTags: string[] = []
    for (const [component, event] of newest) {
      for (const tag of tags) {
        const digest = await registry.resolveTag(`soak/c${component}`, tag)
        if (digest !== digests[component]![event.build]) {
          wrongTags.push(`c${component}:${tag}: ${digest} is not build ${event.build} of ${event.name}`)
        }
      }
    }
    const logs = stderrOfAllRuns.join('\n')
    const databasePassword = options.databaseUrl ? new URL(options.databaseUrl).password : undefined
    const secretLeaks = [secret, registry.password!, basic, ...(databasePassword ? [databasePassword] : [])].filter(
      (value) => logs.includes(value),
    )
    const uniqueEvents = new Set(events.map((e) => e.name)).size
    return {
      accepted: accepted.size,
      duplicatesAnswered,
      kills,
      malformedAnswers,
      durationMs,
      eventsPerSecond: uniqueEvents / (durationMs / 1000),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
      finalStates,
      wrongTags,
      backwardsObservations: backwards,
      samples,
      redundantPuts: proxy.stats.redundantPuts.length,
      manifestPuts: proxy.stats.manifestPuts,
      injected: { ...proxy.stats.injected },
      secretLeaks,
      healthyAfterMalformed: healthy,
      pendingAfter,
    }
  } finally {
    for (const running of daemons) {
      if (!running) continue
      running.kill('SIGKILL')
      await running.exited
    }
    await proxy.stop()
    await registry.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
