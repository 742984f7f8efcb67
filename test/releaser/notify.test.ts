/**
 * The releaser tells the GitOps repository's updater when a Snapshot moved its tags: the real daemon process, the
 * real registry (TLS, token auth), the local GitHub fake, and at the end the real Renovate lookup.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { runDoctor } from '../../src/doctor/index.js'
import { planNotifications } from '../../src/notify/index.js'
import { signBody } from '../../src/releaser/index.js'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { addRenovateDashboard, initPinnedGitops } from '../helpers/notify.js'
import { startDaemon } from './daemon-process.js'
import { JOURNAL_STORES } from './journal-stores.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'notify-test-webhook-secret-4b8e2f'
const COMPONENTS = ['api', 'web']
const GITOPS = 'acme/shop-gitops'
const DISPATCH_PATH = `/repos/${GITOPS}/dispatches`

interface Notification {
  repository: string
  via: string
  state: 'pending' | 'sent' | 'failed'
  attempts: number
  lastError: string | null
  outcome: string | null
}
interface Release {
  id: string
  state: string
  retags: Array<{ state: string }>
  notifications: Notification[]
}
interface DispatchPayload {
  snapshot: string
  images: Array<{ repository: string; tag: string; digest: string; component?: string }>
}

let registry: TestRegistry
let fake: GitHubFake
beforeAll(async () => {
  ;[registry, fake] = await Promise.all([startRegistry({ tls: true, auth: 'token' }), startGitHubFake()])
})
afterAll(async () => {
  await Promise.all([registry?.stop(), fake?.stop()])
})

async function post(url: string, body: string): Promise<{ id: string; duplicate?: boolean }> {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  expect([200, 202]).toContain(res.status)
  return (await res.json()) as { id: string; duplicate?: boolean }
}

async function until(url: string, id: string, done: (release: Release) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const release = (await (await fetch(`${url}/v1/releases/${id}`)).json()) as Release
    if (done(release)) return release
    if (Date.now() > deadline) throw new Error(`release ${id} never got there: ${JSON.stringify(release)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const settledNotifications = (release: Release) =>
  release.notifications.length > 0 && release.notifications.every((n) => n.state !== 'pending')
const dispatchesTo = (repo: string) => fake.state.dispatches.filter((d) => d.repo === repo)

test('releaser --notify: one dispatch per moved Snapshot, retried through a 500, failed visibly, resumed after a restart; Renovate then proposes the digest', async () => {
  await withTempDir(async (root) => {
    const gitops = join(root, 'gitops')
    const image = await initPinnedGitops(registry, gitops, 'acme/notify', COMPONENTS)
    fake.addRepo(GITOPS)
    // A repository that tracks none of these images: never told.
    fake.addRepo('acme/other-gitops')
    // A repository on the hosted Renovate app that tracks only api: its dashboard box is ticked.
    const dash = fake.addRepo('acme/dash-gitops')
    addRenovateDashboard(dash)

    const state = join(root, 'state')
    const secretFile = join(root, 'secret')
    const config = join(root, 'releaser.yaml')
    await writeFile(secretFile, SECRET)
    await writeFile(
      config,
      [
        'components:',
        ...COMPONENTS.flatMap((c) => [`  - name: ${c}`, `    repository: ${image(c)}`]),
        'defaults: {tags: [released]}',
        'notify:',
        '  - repository: github:acme/other-gitops',
        '    images: [quay.io/elsewhere/]',
        '    via: dispatch',
        '  - repository: acme/dash-gitops',
        `    images: [${image('api')}]`,
        '    via: dashboard',
      ].join('\n'),
    )
    const args = [
      ...['--state', state, '--init-state', '--webhook-secret-file', secretFile, '--mapping', config],
      ...['--allow-source', registry.host],
      ...['--notify', `github:${GITOPS}`, '--notify-via', 'dispatch', '--notify-max-attempts', '2'],
      ...['--github-api-url', fake.url, '--json'],
    ]
    const env = { ...registry.env, GITHUB_TOKEN: fake.token }
    const snapshot = async (name: string, createdAt: string, build: string) => {
      const digests: Record<string, string> = {}
      for (const c of COMPONENTS) digests[c] = await registry.pushImage(`acme/notify/${c}`, build)
      const body = snapshotBody(
        name,
        createdAt,
        COMPONENTS.map((c) => ({ name: c, image: `${image(c)}@${digests[c]}` })),
      )
      return { body, digests }
    }

    let daemon = await startDaemon(args, { port: await freePort(), env })
    let second: Awaited<ReturnType<typeof snapshot>>
    try {
      // GitHub answers 500 once: the notification is retried from the journal and then sent.
      fake.failNext({ method: 'POST', path: DISPATCH_PATH, status: 500 })
      const first = await snapshot('shop-1', '2026-11-27T09:00:00Z', 'build-2')
      const accepted = await post(daemon.url, first.body)
      const sent = await until(daemon.url, accepted.id, settledNotifications)
      expect(sent.state).toBe('released')
      expect(sent.notifications).toMatchObject([
        { repository: 'acme/dash-gitops', via: 'dashboard', state: 'sent', attempts: 1, outcome: 'ticked' },
        { repository: GITOPS, via: 'dispatch', state: 'sent', attempts: 2, outcome: 'dispatched' },
      ])
      expect(dash.issues[0]?.body).toContain('- [x] <!-- manual job -->')
      expect(dispatchesTo(GITOPS)).toHaveLength(1)
      const dispatch = dispatchesTo(GITOPS)[0]!
      expect(dispatch.eventType).toBe('konflux-gitops-released')
      const payload = dispatch.payload as DispatchPayload
      expect(payload.snapshot).toBe('shop-1')
      expect(payload.images.map((i) => [i.repository, i.tag, i.digest]).sort()).toEqual(
        COMPONENTS.map((c) => [image(c), 'released', first.digests[c]]).sort(),
      )

      // The same Snapshot again is the same release: nothing sent. A new Snapshot of the same digests moves no
      // tag: nothing sent either.
      expect((await post(daemon.url, first.body)).duplicate).toBe(true)
      const same = snapshotBody(
        'shop-1-rerun',
        '2026-11-27T09:01:00Z',
        COMPONENTS.map((c) => ({ name: c, image: `${image(c)}@${first.digests[c]}` })),
      )
      const unchanged = await until(daemon.url, (await post(daemon.url, same)).id, (r) => r.state !== 'pending')
      expect(unchanged.retags.map((r) => r.state)).toEqual(['already', 'already'])
      expect(unchanged.notifications).toEqual([])

      // GitHub keeps failing: after --notify-max-attempts the notification is failed, visibly, and the tags moved.
      fake.failNext({ method: 'POST', path: DISPATCH_PATH, status: 500, times: 1000 })
      second = await snapshot('shop-2', '2026-11-27T09:05:00Z', 'build-3')
      const id = (await post(daemon.url, second.body)).id
      const failed = await until(daemon.url, id, settledNotifications)
      expect(failed.state).toBe('released')
      expect(failed.notifications).toMatchObject([
        { repository: 'acme/dash-gitops', state: 'sent', outcome: 'already-ticked' },
        { repository: GITOPS, attempts: 2, state: 'failed' },
      ])
      expect(failed.notifications[1]?.lastError).toContain('500')
      for (const c of COMPONENTS) {
        expect(await registry.resolveTag(`acme/notify/${c}`, 'released')).toBe(second.digests[c])
      }
      expect(daemon.stderr()).toContain('notification failed; retry with')

      // `releaser retry` queues it again while the daemon is down; the next start sends it.
      daemon.kill('SIGTERM')
      expect(await daemon.exited).toBe(0)
      const summary = JSON.parse(daemon.stdout())
      expect(await schemaErrors('releaser', summary)).toEqual([])
      expect(summary.notifications).toEqual({ pending: 0, sent: 3, failed: 1 })
      expect(daemon.stderr()).not.toContain(fake.token)
      fake.state.failures.length = 0
      const retry = await runCli(['releaser', 'retry', '--all-failed', '--state', state, '--json'])
      expect(retry.exitCode, retry.stderr).toBe(0)
      expect(retry.json).toMatchObject({ releases: [{ id, retried: 1 }] })
      expect(await schemaErrors('releaser retry', retry.json)).toEqual([])

      daemon = await startDaemon(args, { port: await freePort(), env })
      const resumed = await until(daemon.url, id, (r) => r.notifications[1]?.state === 'sent')
      expect(resumed.notifications[1]).toMatchObject({ attempts: 1, outcome: 'dispatched', lastError: null })
      expect(dispatchesTo(GITOPS)).toHaveLength(2)
      const digests = (dispatchesTo(GITOPS)[1]!.payload as DispatchPayload).images.map((i) => i.digest).sort()
      expect(digests).toEqual(Object.values(second.digests).sort())
      expect(dispatchesTo('acme/other-gitops')).toEqual([])
      expect(fake.state.violations).toEqual([])
    } finally {
      daemon.kill('SIGTERM')
      await daemon.exited
    }
    expect(daemon.stderr()).not.toContain(fake.token)

    // What the notified Renovate run finds: the digest that moved last, proposed for every environment.
    const doctor = await runDoctor(gitops, {
      renovate: true,
      registry: { ca: registry.caPem!, dockerConfigPath: registry.dockerConfigPath },
      env: { ...process.env, ...registry.env },
    })
    const proposed = new Set(doctor.renovate?.proposals.map((p) => `${p.packageFile} ${p.newDigest}`))
    for (const env of ['dev', 'stage', 'prod']) {
      for (const c of COMPONENTS) {
        expect(proposed).toContain(`environments/${env}/kustomization.yaml ${second.digests[c]}`)
      }
    }
  })
}, 90_000)

test('releaser --notify without a token, or with a bad notify: entry, is a usage error before it listens', async () => {
  await withTempDir(async (root) => {
    const secretFile = join(root, 'secret')
    await writeFile(secretFile, SECRET)
    const base = ['releaser', '--state', join(root, 'state'), '--webhook-secret-file', secretFile, '--listen']
    const tokenless = await runCli([...base, '127.0.0.1:0', '--notify', `github:${GITOPS}`], {
      env: { GITHUB_TOKEN: '', GH_TOKEN: '' },
    })
    expect(tokenless.exitCode).toBe(2)
    expect(tokenless.stderr).toContain('GITHUB_TOKEN')
    const config = join(root, 'releaser.yaml')
    await writeFile(config, 'components: []\nnotify:\n  - repository: acme\n')
    const bad = await runCli([...base, '127.0.0.1:0', '--mapping', config], { env: { GITHUB_TOKEN: 'x' } })
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(`${config}: notify.0.repository`)
  })
})

test.each(JOURNAL_STORES)(
  'journal (%s): notifications are queued with the final retag, from MOVED tags only, one per repository, updated by a retry that moves more',
  async (_name, store) => {
    await store.withJournal(async (open) => {
      const journal = await open({
        planner: (moved) =>
          planNotifications(
            moved,
            [{ repository: 'acme/a' }, { repository: 'acme/b', images: ['r/x/db'] }],
            'dispatch',
          ).map((plan) => ({ repository: plan.repository, via: plan.via, payload: JSON.stringify(plan) })),
      })
      try {
        const retag = (component: string) => ({
          component,
          source: `r/x/${component}@sha256:${component.padEnd(64, '0').slice(0, 64)}`,
          registry: 'r',
          repository: `r/x/${component}`,
          tag: 'released',
          digest: `sha256:${component.padEnd(64, '0').slice(0, 64)}`,
        })
        const { id } = await journal.accept({
          snapshot: 's1',
          namespace: 'ns',
          application: 'shop',
          createdAt: '2026-11-27T00:00:00Z',
          body: '{}',
          source: 'test',
          retags: [retag('api'), retag('web'), retag('db')],
        })
        const [api, web, db] = (await journal.claimRetags(10)).sort((a, b) => a.id - b.id)
        await journal.succeeded(api!, { action: 'moved', fromDigest: null, durationMs: 1 })
        expect(await journal.claimNotifications(10)).toEqual([])
        await journal.succeeded(web!, { action: 'already', fromDigest: null, durationMs: 1 })
        await journal.attemptFailed(db!, 'registry down', undefined, 1)
        // Final: one notification for acme/a naming api only (web did not move, db failed); acme/b tracks only db.
        const queued = await journal.claimNotifications(10)
        expect(queued.map((n) => n.repository)).toEqual(['acme/a'])
        const payload = (n: { payload: string }) =>
          (JSON.parse(n.payload) as { images: { repository: string }[] }).images
        expect(payload(queued[0]!).map((i) => i.repository)).toEqual(['r/x/api'])
        await journal.notificationSent(queued[0]!, { status: 'dispatched', message: 'ok' })
        expect((await journal.release(id))?.notifications).toMatchObject([{ repository: 'acme/a', state: 'sent' }])

        // Retried, db moves: acme/a is told again with both, acme/b for the first time.
        expect(await journal.retry(id)).toBe(1)
        await journal.succeeded((await journal.claimRetags(10))[0]!, {
          action: 'moved',
          fromDigest: null,
          durationMs: 1,
        })
        const again = await journal.claimNotifications(10)
        expect(again.map((n) => [n.repository, payload(n).map((i) => i.repository)])).toEqual([
          ['acme/a', ['r/x/api', 'r/x/db']],
          ['acme/b', ['r/x/db']],
        ])
      } finally {
        await journal.close()
      }
    })
  },
)
