/**
 * Event→notification latency through the releaser daemon (a real process) over N Snapshots (BENCH_N, default 100),
 * against the real registry (TLS, token auth) and the local GitHub fake, `--notify-via dispatch`. Each Snapshot has
 * two components and is posted after the previous one was notified (latency, not throughput).
 *
 * Printed, p50/p99: event→tags moved (the peer: the release itself, from the daemon's own journal timestamps),
 * event→notification sent (same clock), and POST→dispatch received by the fake (measured here, end to end), with
 * the ratio notification/tags so the cost of the notify step reads against the release it follows.
 *
 *   npx tsc -p tsconfig.json && npx vitest run --config bench/notify/vitest.config.ts daemon
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { startGitHubFake } from '../../test/harness/github-fake.js'
import { freePort, startRegistry } from '../../test/harness/registry.js'
import { startDaemon } from '../../test/releaser/daemon-process.js'
import { snapshotBody } from '../../test/releaser/snapshots.js'

const N = Number(process.env.BENCH_N ?? 100)
const SECRET = 'bench-notify-webhook-secret-91d3'

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

interface Release {
  receivedAt: string
  finishedAt: string | null
  notifications: Array<{ state: string; sentAt: string | null }>
}

test(`releaser daemon: event→notification latency over ${N} Snapshots`, async () => {
  const [registry, fake] = await Promise.all([startRegistry({ tls: true, auth: 'token' }), startGitHubFake()])
  fake.addRepo('acme/bench-gitops')
  // The moment each dispatch reaches the fake, on this process's clock.
  const arrivals: number[] = []
  const dispatches = fake.state.dispatches
  const push = dispatches.push.bind(dispatches)
  dispatches.push = (...items) => {
    arrivals.push(performance.now())
    return push(...items)
  }
  const dir = await mkdtemp(join(tmpdir(), 'kg-bench-notify-'))
  await writeFile(join(dir, 'secret'), SECRET)
  const daemon = await startDaemon(
    [
      ...['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', join(dir, 'secret')],
      ...['--allow-source', registry.host],
      ...['--notify', 'github:acme/bench-gitops', '--notify-via', 'dispatch', '--github-api-url', fake.url],
    ],
    { port: await freePort(), env: { ...registry.env, GITHUB_TOKEN: fake.token, KONFLUX_GITOPS_LOG_LEVEL: 'warn' } },
  )
  const tags: number[] = []
  const notified: number[] = []
  const endToEnd: number[] = []
  try {
    for (let i = 0; i < N; i++) {
      const components = await Promise.all(
        ['api', 'web'].map(async (c) => ({
          name: c,
          image: `${registry.host}/acme/bench/${c}@${await registry.pushImage(`acme/bench/${c}`, undefined)}`,
        })),
      )
      const body = snapshotBody(`bench-${i}`, new Date(Date.UTC(2026, 10, 27, 0, 0, i)).toISOString(), components)
      const t0 = performance.now()
      const res = await fetch(`${daemon.url}/v1/snapshots`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
        body,
      })
      expect(res.status).toBe(202)
      const { id } = (await res.json()) as { id: string }
      while (arrivals.length <= i) await new Promise((resolve) => setTimeout(resolve, 1))
      endToEnd.push(arrivals[i]! - t0)
      let release: Release
      for (;;) {
        release = (await (await fetch(`${daemon.url}/v1/releases/${id}`)).json()) as Release
        if (release.notifications[0]?.state === 'sent') break
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      const received = Date.parse(release.receivedAt)
      tags.push(Date.parse(release.finishedAt!) - received)
      notified.push(Date.parse(release.notifications[0]!.sentAt!) - received)
    }
    expect(fake.state.dispatches).toHaveLength(N)
    expect(fake.state.violations).toEqual([])
  } finally {
    daemon.kill('SIGTERM')
    await daemon.exited
    await Promise.all([fake.stop(), registry.stop()])
    await rm(dir, { recursive: true, force: true })
  }
  const fmt = (v: number) => `${v.toFixed(1)} ms`
  const row = (name: string, values: number[]) =>
    `  ${name.padEnd(38)} p50 ${fmt(percentile(values, 50)).padStart(9)}  p99 ${fmt(percentile(values, 99)).padStart(9)}`
  console.log(
    [
      `releaser daemon notify latency, ${N} Snapshots x 2 components, registry TLS + token auth, GitHub fake (loopback)`,
      row('event→tags moved (journal, peer)', tags),
      row('event→notification sent (journal)', notified),
      row('POST→dispatch at the fake (end to end)', endToEnd),
      `  ratio notification/tags p50 ${(percentile(notified, 50) / percentile(tags, 50)).toFixed(2)}x, p99 ${(percentile(notified, 99) / percentile(tags, 99)).toFixed(2)}x`,
      "  (the wait it replaces: Renovate's next scheduled run, hourly at best on the hosted app)",
    ].join('\n'),
  )
}, 600_000)
