/**
 * The loop in seconds: `release --notify` against the real registry (TLS, token auth) tells the GitOps repo on the
 * GitHub fake exactly once, and the follow-up real Renovate lookup proposes the digest that moved.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { runDoctor } from '../../src/doctor/index.js'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { addRenovateDashboard, initPinnedGitops } from '../helpers/notify.js'
import { snapshotYaml } from '../release/snapshot-fixture.js'

let registry: TestRegistry
let fake: GitHubFake
beforeAll(async () => {
  ;[registry, fake] = await Promise.all([startRegistry({ tls: true, auth: 'token' }), startGitHubFake()])
})
afterAll(async () => {
  await Promise.all([registry?.stop(), fake?.stop()])
})

interface ReleaseJson {
  summary: { moved: number; unchanged: number }
  notifications?: Array<{ repository: string; status: string; images: Array<{ digest: string }> }>
}

const COMPONENTS = ['api', 'web']

async function release(snapshot: string, extra: string[], env: Record<string, string> = {}) {
  return runCli(['release', '--snapshot', '-', '--json', '--github-api-url', fake.url, ...extra], {
    input: snapshot,
    env: { ...registry.env, GITHUB_TOKEN: fake.token, ...env },
  })
}

test('release --notify: one dispatch per GitOps repo naming the moved digests; Renovate then proposes them', async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/gitops`
    const image = await initPinnedGitops(registry, dir, 'acme/loop', COMPONENTS)
    fake.addRepo('acme/shop-gitops')

    const next: Record<string, string> = {}
    for (const c of COMPONENTS) next[c] = await registry.pushImage(`acme/loop/${c}`, 'build-2')
    const snapshot = snapshotYaml(COMPONENTS.map((c) => ({ name: c, containerImage: `${image(c)}@${next[c]}` })))

    const first = await release(snapshot, ['--notify', 'github:acme/shop-gitops', '--notify-via', 'dispatch'])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(await schemaErrors('release', first.json)).toEqual([])
    expect(first.stderr).not.toContain(fake.token)
    const report = first.json as ReleaseJson
    expect(report.summary.moved).toBe(2)
    expect(report.notifications?.map((n) => [n.repository, n.status])).toEqual([['acme/shop-gitops', 'dispatched']])
    expect(fake.state.dispatches).toHaveLength(1)
    const payload = fake.state.dispatches[0]?.payload as { snapshot: string; images: Array<{ digest: string }> }
    expect(payload.images.map((i) => i.digest).sort()).toEqual(Object.values(next).sort())
    expect(fake.state.violations).toEqual([])

    // Nothing moved, nothing sent.
    const again = await release(snapshot, ['--notify', 'github:acme/shop-gitops', '--notify-via', 'dispatch'])
    expect((again.json as ReleaseJson).summary.unchanged).toBe(2)
    expect((again.json as ReleaseJson).notifications).toEqual([])
    expect(fake.state.dispatches).toHaveLength(1)

    // What the notified Renovate run finds: the moved digests, proposed for every environment.
    const doctor = await runDoctor(dir, {
      renovate: true,
      registry: { ca: registry.caPem!, dockerConfigPath: registry.dockerConfigPath },
      env: { ...process.env, ...registry.env },
    })
    const proposed = new Set(doctor.renovate?.proposals.map((p) => `${p.packageFile} ${p.newDigest}`))
    for (const env of ['dev', 'stage', 'prod']) {
      for (const c of COMPONENTS) expect(proposed).toContain(`environments/${env}/kustomization.yaml ${next[c]}`)
    }
  })
}, 180_000)

test('release --notify (dashboard): ticks the run-again box of the Renovate app dashboard once', async () => {
  const repo = fake.addRepo('acme/dash-loop')
  addRenovateDashboard(repo)
  const digest = await registry.pushImage('acme/dash/api', 'build-1')
  const snapshot = snapshotYaml([{ name: 'api', containerImage: `${registry.host}/acme/dash/api@${digest}` }], {
    name: 'shop-dash-1',
  })
  const result = await release(snapshot, ['--notify', 'github:acme/dash-loop'])
  expect(result.exitCode, result.stderr).toBe(0)
  expect((result.json as ReleaseJson).notifications?.map((n) => n.status)).toEqual(['ticked'])
  expect(repo.issues[0]?.body).toContain('- [x] <!-- manual job -->')
})

test('a bad --notify or a missing token is a usage error before any tag moves', async () => {
  const digest = await registry.pushImage('acme/usage/api', 'build-1')
  const snapshot = snapshotYaml([{ name: 'api', containerImage: `${registry.host}/acme/usage/api@${digest}` }])
  const bad = await release(snapshot, ['--notify', 'acme'])
  expect(bad.exitCode).toBe(2)
  expect(bad.stdout + bad.stderr).toContain('expected github:OWNER/REPO')
  const tokenless = await release(snapshot, ['--notify', 'github:acme/x'], { GITHUB_TOKEN: '', GH_TOKEN: '' })
  expect(tokenless.exitCode).toBe(2)
  expect(tokenless.stdout + tokenless.stderr).toContain('GITHUB_TOKEN')
  expect(await registry.resolveTag('acme/usage/api', 'released')).toBeUndefined()
})
