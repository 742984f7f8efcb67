import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openJournal } from '../../src/releaser/index.js'
import { startFaultProxy } from '../harness/fault-proxy.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { withTempDir } from '../helpers/cli.js'
import { type DaemonProcess, startDaemon } from './daemon-process.js'
import { type FakeKubeApi, startFakeKubeApi } from './fake-kube-api.js'
import { testPostgres } from './journal-stores.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'kube-test-webhook-secret-51ab2f'

function snapshot(name: string, createdAt: string, image: string, passed = true, application = 'shop') {
  const object = JSON.parse(snapshotBody(name, createdAt, [{ name: 'api', image }], { application }))
  if (!passed) object.status.conditions = []
  return object
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('konflux-gitops releaser --kubernetes (fake API server, real registry)', () => {
  let registry: TestRegistry
  let api: FakeKubeApi
  beforeAll(async () => {
    registry = await startRegistry()
    api = await startFakeKubeApi()
  })
  afterAll(async () => {
    await api?.stop()
    await registry?.stop()
  })

  /** `state`: a --state directory, or a PostgreSQL URL (shared journal, passed in the environment). */
  async function daemon(dir: string, state: string, extra: string[] = []): Promise<DaemonProcess> {
    const shared = state.startsWith('postgres://')
    const kubeconfig = join(dir, 'kubeconfig')
    await api.writeKubeconfig(kubeconfig)
    const secretFile = join(dir, 'secret')
    await writeFile(secretFile, SECRET)
    return startDaemon(
      [
        ...(shared ? [] : ['--state', state, '--init-state']),
        '--allow-source',
        registry.host,
        // Targets come from ReleasePlans in the cluster: allowed only where the releaser's own config says.
        '--allow-target',
        `${registry.host}/acme/`,
        '--webhook-secret-file',
        secretFile,
        '--kubernetes',
        '--kubeconfig',
        kubeconfig,
        '--lease-namespace',
        'acme-tenant',
        '--lease-duration',
        '2',
        '--shutdown-timeout',
        '2',
        ...extra,
      ],
      { port: await freePort(), env: { ...registry.env, ...(shared ? { KONFLUX_GITOPS_DATABASE_URL: state } : {}) } },
    )
  }

  it('releases watched Snapshots by their ReleasePlan, resumes after a restart and relists after 410 Gone', async () => {
    await withTempDir(async (dir) => {
      const state = join(dir, 'state')
      const first = await registry.pushImage('acme/kbuild/api', 'b1')
      const second = await registry.pushImage('acme/kbuild/api', 'b2')
      const image = (digest: string) => `${registry.host}/acme/kbuild/api@${digest}`
      api.put(
        {
          apiVersion: 'appstudio.redhat.com/v1alpha1',
          kind: 'ReleasePlan',
          metadata: { name: 'shop-released', namespace: 'acme-tenant' },
          spec: {
            application: 'shop',
            data: { mapping: { components: [{ name: 'api', repository: `${registry.host}/acme/kprod/api` }] } },
          },
        } as never,
        'releaseplans',
      )
      api.put(snapshot('shop-k1', '2026-11-24T09:00:00Z', image(first)))

      let running = await daemon(dir, state)
      try {
        // Listed at start, mapped by the ReleasePlan into another repository.
        await until('k1 released', async () => (await registry.resolveTag('acme/kprod/api', 'released')) === first)
        // Not releasable while its tests run; released when the watch sees it pass.
        api.put(snapshot('shop-k2', '2026-11-24T10:00:00Z', image(second), false))
        await new Promise((resolve) => setTimeout(resolve, 500))
        expect(await registry.resolveTag('acme/kprod/api', 'released')).toBe(first)
        api.put(snapshot('shop-k2', '2026-11-24T10:00:00Z', image(second)))
        await until('k2 released', async () => (await registry.resolveTag('acme/kprod/api', 'released')) === second)
      } finally {
        running.kill('SIGTERM')
      }
      expect(await running.exited).toBe(0)

      // While it is down the API server compacts its history; an older Snapshot arrives late.
      api.compact()
      api.put(snapshot('shop-k0', '2026-11-24T08:00:00Z', image(first)))
      // And the ReleasePlans cannot be read for a moment: the Snapshots wait for them, none is skipped.
      api.failReleasePlanLists(2)
      const requestsBefore = api.requests.length
      running = await daemon(dir, state)
      try {
        await until('the relist after 410', async () => {
          const journal = await openJournal({ stateDir: state }, { create: false })
          const counts = await journal.counts()
          await journal.close()
          return counts.events.released === 3 && counts.events.pending === 0
        })
        const since = api.requests.slice(requestsBefore)
        const watchAt = since.indexOf('GET /apis/appstudio.redhat.com/v1alpha1/snapshots')
        expect(watchAt).toBeGreaterThanOrEqual(0)
        // Resumed with a watch from the saved resourceVersion first (not a list), then listed after the 410.
        expect(
          since.filter((r) => r === 'GET /apis/appstudio.redhat.com/v1alpha1/snapshots').length,
        ).toBeGreaterThanOrEqual(2)
        expect(await registry.resolveTag('acme/kprod/api', 'released')).toBe(second)
        const planReads = since.filter(
          (r) => r === 'GET /apis/appstudio.redhat.com/v1alpha1/namespaces/acme-tenant/releaseplans',
        )
        expect(planReads.length).toBeGreaterThanOrEqual(3)
      } finally {
        running.kill('SIGTERM')
      }
      expect(await running.exited).toBe(0)
      const journal = await openJournal({ stateDir: state }, { create: false })
      expect((await journal.history()).map((h) => [h.snapshot, h.action])).toEqual([
        ['shop-k2', 'moved'],
        ['shop-k1', 'moved'],
      ])
      await journal.close()
    })
  })

  it('with two replicas only the Lease holder works; the standby takes over when it dies', async () => {
    await withTempDir(async (dir) => {
      const digest = await registry.pushImage('acme/ha/api', 'b1')
      const later = await registry.pushImage('acme/ha/api', 'b2')
      const a = await daemon(dir, join(dir, 'state-a'))
      const b = await daemon(dir, join(dir, 'state-b'))
      try {
        const leader = await until('one leader', async () => {
          const [ra, rb] = await Promise.all([fetch(`${a.url}/readyz`), fetch(`${b.url}/readyz`)])
          if (ra.status === 200 && rb.status === 503) return a
          if (rb.status === 200 && ra.status === 503) return b
          return undefined
        })
        const standby = leader === a ? b : a
        const holder = (
          api.lease('acme-tenant', 'konflux-gitops-releaser') as unknown as { spec: { holderIdentity: string } }
        ).spec.holderIdentity
        expect(holder).toMatch(new RegExp(`-${leader.child.pid}$`))
        api.put(
          // Application "ha" has no ReleasePlan: the component's own repository, tag released.
          snapshot('ha-1', '2026-11-25T09:00:00Z', `${registry.host}/acme/ha/api@${digest}`, true, 'ha') as never,
        )
        await until('ha1 released', async () => (await registry.resolveTag('acme/ha/api', 'released')) === digest)

        leader.kill('SIGKILL')
        await leader.exited
        await until('the standby leads', async () => (await fetch(`${standby.url}/readyz`)).status === 200, 15_000)
        api.put(snapshot('ha-2', '2026-11-25T10:00:00Z', `${registry.host}/acme/ha/api@${later}`, true, 'ha') as never)
        await until('ha2 released', async () => (await registry.resolveTag('acme/ha/api', 'released')) === later)
        expect(standby.stderr()).toContain('"msg":"became leader"')
        expect(standby.stderr()).not.toContain(api.token)
      } finally {
        a.kill('SIGKILL')
        b.kill('SIGKILL')
      }
    })
  })

  it('on one PostgreSQL journal both replicas take webhooks, only the Lease holder watches, and a new leader resumes from the shared resourceVersion', async () => {
    await withTempDir(async (dir) => {
      const url = await (await testPostgres()).createDatabase()
      const digest = await registry.pushImage('acme/pg/api', 'b1')
      const later = await registry.pushImage('acme/pg/api', 'b2')
      api.put(snapshot('pg-1', '2026-11-26T09:00:00Z', `${registry.host}/acme/pg/api@${digest}`, true, 'pg') as never)
      const a = await daemon(dir, url)
      const b = await daemon(dir, url)
      try {
        await until('pg1 released', async () => (await registry.resolveTag('acme/pg/api', 'released')) === digest)
        // Both ready: both accept webhooks and work the shared queue.
        expect([(await fetch(`${a.url}/readyz`)).status, (await fetch(`${b.url}/readyz`)).status]).toEqual([200, 200])
        const leading = (d: DaemonProcess) => d.stderr().includes('"msg":"became leader"')
        const leader = await until('one leader', async () => (leading(a) !== leading(b) ? (leading(a) ? a : b) : false))
        const standby = leader === a ? b : a
        expect(standby.stderr()).not.toContain('listed Snapshots')

        leader.kill('SIGKILL')
        await leader.exited
        await until('the standby leads', async () => leading(standby), 15_000)
        api.put(snapshot('pg-2', '2026-11-26T10:00:00Z', `${registry.host}/acme/pg/api@${later}`, true, 'pg') as never)
        await until('pg2 released', async () => (await registry.resolveTag('acme/pg/api', 'released')) === later)
        // It never listed: it watched from the resourceVersion the old leader stored in the shared journal.
        expect(standby.stderr()).toContain('resuming the Snapshot watch')
        expect(standby.stderr()).not.toContain('listed Snapshots')
        expect(standby.stderr()).not.toContain(new URL(url).password)
      } finally {
        a.kill('SIGKILL')
        b.kill('SIGKILL')
      }
    })
  })

  it("expands a ReleasePlan's {{ timestamp }} and {{ incrementer }} tags for a watched Snapshot, as release does", async () => {
    await withTempDir(async (dir) => {
      const digest = await registry.pushImage('acme/kbuild/cart', 'b1', {
        labels: { 'build-date': '2026-11-20T23:59:59Z' },
      })
      const old = await registry.pushImage('acme/kcart/api', 'v-2')
      api.put(
        {
          apiVersion: 'appstudio.redhat.com/v1alpha1',
          kind: 'ReleasePlan',
          metadata: { name: 'cart-released', namespace: 'acme-tenant' },
          spec: {
            application: 'cart',
            data: {
              mapping: {
                defaults: { timestampFormat: '%F' },
                components: [
                  {
                    name: 'api',
                    repository: `${registry.host}/acme/kcart/api`,
                    tags: ['{{ timestamp }}', 'v-{{ incrementer }}'],
                  },
                ],
              },
            },
          },
        } as never,
        'releaseplans',
      )
      // cart-1's image is read through a proxy that records every request.
      const proxy = await startFaultProxy(registry)
      await registry.addAuthHost(proxy.host)
      const cart1 = snapshot('cart-1', '2026-11-27T09:00:00Z', `${proxy.host}/acme/kbuild/cart@${digest}`, true, 'cart')
      api.put(cart1)
      const running = await daemon(dir, join(dir, 'state'), ['--allow-source', proxy.host])
      try {
        // Both tags of the release (one repository: one lane, in either order).
        await until(
          'cart-1 released',
          async () =>
            (await registry.resolveTag('acme/kcart/api', 'v-3')) === digest &&
            (await registry.resolveTag('acme/kcart/api', '2026-11-20')) === digest,
        )
        expect(await registry.resolveTag('acme/kcart/api', 'v-2')).toBe(old)
        const proxied = proxy.requests.length
        // cart-1 updated in the cluster (an annotation): already stored, so not planned again, nothing read.
        api.put({ ...cart1, metadata: { ...cart1.metadata, annotations: { touched: 'yes' } } })
        // cart-2, after it in the watch: its {{ incrementer }} counts on from the v-3 cart-1 pushed.
        const next = await registry.pushImage('acme/kbuild/cart', 'b2', {
          labels: { 'build-date': '2026-11-21T08:00:00Z' },
        })
        api.put(snapshot('cart-2', '2026-11-28T09:00:00Z', `${registry.host}/acme/kbuild/cart@${next}`, true, 'cart'))
        await until(
          'cart-2 released',
          async () =>
            (await registry.resolveTag('acme/kcart/api', 'v-4')) === next &&
            (await registry.resolveTag('acme/kcart/api', '2026-11-21')) === next,
        )
        expect(await registry.resolveTag('acme/kcart/api', 'v-3')).toBe(digest)
        expect(proxy.requests.length).toBe(proxied)
        const metrics = await (await fetch(`${running.url}/metrics`)).text()
        expect(metrics).toContain('konflux_gitops_releaser_kubernetes_events_total{result="duplicate"} 1')
      } finally {
        running.kill('SIGTERM')
        await proxy.stop()
      }
      expect(await running.exited).toBe(0)
    })
  })
})
