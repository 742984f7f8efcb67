/**
 * Event→notification latency over N Snapshots (default 100), in one run, against the real registry (TLS, token
 * auth) and the local GitHub fake. Per Snapshot (two components): the release (retag both `:released`) and then
 * the notification (one repository_dispatch, or one Dependency Dashboard tick). Printed: p50/p99 of
 * event→tags moved (the peer) and event→notification accepted, and the ratio of the two, so the cost notify adds
 * reads against the release itself. Renovate's own schedule (hourly at best on the hosted app) is the wait it
 * replaces.
 */
import { expect, test } from 'vitest'
import { createGitHubClient } from '../../src/github/index.js'
import { githubNotifier, movedImagesOf, type NotifyVia, notifyUpdaters } from '../../src/notify/index.js'
import { createRegistryClient } from '../../src/registry/index.js'
import { releaseSnapshot } from '../../src/release/index.js'
import { startGitHubFake } from '../../test/harness/github-fake.js'
import { startRegistry } from '../../test/harness/registry.js'
import { addRenovateDashboard } from '../../test/helpers/notify.js'
import { snapshotYaml } from '../../test/release/snapshot-fixture.js'

const N = Number(process.env.BENCH_N ?? 100)

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

test(`event→notification latency over ${N} Snapshots`, async () => {
  const registry = await startRegistry({ tls: true, auth: 'token' })
  const fake = await startGitHubFake()
  const client = createRegistryClient({ ca: registry.caPem!, dockerConfigPath: registry.dockerConfigPath })
  const github = githubNotifier(await createGitHubClient({ token: fake.token, apiUrl: fake.url, env: {} }))
  fake.addRepo('acme/bench-dispatch')
  const issue = addRenovateDashboard(fake.addRepo('acme/bench-dashboard'))
  try {
    const rows: Record<NotifyVia, { release: number[]; notify: number[] }> = {
      dispatch: { release: [], notify: [] },
      dashboard: { release: [], notify: [] },
    }
    for (let i = 0; i < N; i++) {
      for (const via of ['dispatch', 'dashboard'] as const) {
        const components = ['api', 'web']
        const images = await Promise.all(
          components.map(async (c) => ({ c, digest: await registry.pushImage(`acme/bench-${via}/${c}`, undefined) })),
        )
        const snapshot = snapshotYaml(
          images.map(({ c, digest }) => ({
            name: c,
            containerImage: `${registry.host}/acme/bench-${via}/${c}@${digest}`,
          })),
          { name: `bench-${via}-${i}` },
        )
        // The box is unticked again, as the hosted app does after its run.
        issue.body = issue.body!.replace('- [x] <!-- manual job -->', '- [ ] <!-- manual job -->')
        const t0 = performance.now()
        const report = await releaseSnapshot({ snapshotText: snapshot, snapshotSource: 'bench' }, { client })
        const t1 = performance.now()
        const outcomes = await notifyUpdaters(movedImagesOf(report), [{ repository: `acme/bench-${via}` }], github, {
          via,
        })
        const t2 = performance.now()
        expect(report.summary.moved).toBe(2)
        expect(outcomes.map((o) => o.status)).toEqual([via === 'dispatch' ? 'dispatched' : 'ticked'])
        rows[via].release.push(t1 - t0)
        rows[via].notify.push(t2 - t0)
      }
    }
    expect(fake.state.dispatches).toHaveLength(N)
    const fmt = (v: number) => `${v.toFixed(1)} ms`
    const lines = [`notify latency, ${N} Snapshots x 2 components, registry TLS + token auth, GitHub fake (loopback)`]
    for (const via of ['dispatch', 'dashboard'] as const) {
      const { release, notify } = rows[via]
      lines.push(
        `  ${via.padEnd(9)} event→tags moved p50 ${fmt(percentile(release, 50))} p99 ${fmt(percentile(release, 99))}` +
          ` | event→notification p50 ${fmt(percentile(notify, 50))} p99 ${fmt(percentile(notify, 99))}` +
          ` | ratio p50 ${(percentile(notify, 50) / percentile(release, 50)).toFixed(2)}x`,
      )
    }
    lines.push("  (the wait it replaces: Renovate's next scheduled run, hourly at best on the hosted app)")
    console.log(lines.join('\n'))
  } finally {
    await client.close()
    await fake.stop()
    await registry.stop()
  }
})
