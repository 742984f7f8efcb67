import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'cli-test-webhook-secret-7c1d9e'

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  return { status: res.status, body: (await res.json()) as { id: string; error?: string } }
}

async function settled(url: string, id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const release = (await (await fetch(`${url}/v1/releases/${id}`)).json()) as Record<string, unknown>
    if (release.state !== 'pending') return release
    if (Date.now() > deadline) throw new Error(`release ${id} still pending: ${JSON.stringify(release)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('konflux-gitops releaser (real process, real registry with token auth)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' })
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('releases a posted Snapshot, keeps the audit trail, retries a failed release, stops cleanly', async () => {
    await withTempDir(async (dir) => {
      const state = join(dir, 'state')
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, `${SECRET}\n`)
      const api = await registry.pushImage('acme/api', 'build-1')
      const web = await registry.pushImage('acme/web', 'build-1', { platforms: ['linux/amd64', 'linux/arm64'] })
      const port = await freePort()
      const daemon = await startDaemon(
        [
          '--state',
          state,
          '--init-state',
          '--webhook-secret-file',
          secretFile,
          '--json',
          '--allow-source',
          registry.host,
        ],
        {
          port,
          env: registry.env,
        },
      )
      try {
        const accepted = await post(
          daemon.url,
          snapshotBody('shop-1', '2026-11-24T09:00:00Z', [
            { name: 'api', image: `${registry.host}/acme/api@${api}` },
            { name: 'web', image: `${registry.host}/acme/web@${web}` },
          ]),
        )
        expect(accepted.status).toBe(202)
        const release = await settled(daemon.url, accepted.body.id)
        expect(release).toMatchObject({ state: 'released', snapshot: 'shop-1' })
        expect(await registry.resolveTag('acme/api', 'released')).toBe(api)
        // The index is retagged whole: same digest, not one platform's.
        expect(await registry.resolveTag('acme/web', 'released')).toBe(web)

        // An image that is not in the registry yet: the release fails visibly, and retry finishes it.
        const seed = 'late-image'
        const late = await registry.pushImage('acme/scratch', undefined, { seed })
        const missing = await post(
          daemon.url,
          snapshotBody('shop-2', '2026-11-24T09:05:00Z', [{ name: 'db', image: `${registry.host}/acme/db@${late}` }]),
        )
        expect(missing.status).toBe(202)
        const failed = await settled(daemon.url, missing.body.id)
        expect(failed).toMatchObject({ state: 'failed', retags: [{ state: 'failed' }] })
        expect(await registry.pushImage('acme/db', undefined, { seed })).toBe(late)
        const retry = await runCli(['releaser', 'retry', missing.body.id, '--state', state, '--json'])
        expect(retry.exitCode, retry.stderr).toBe(0)
        expect(await schemaErrors('releaser retry', retry.json)).toEqual([])
        expect(retry.json).toMatchObject({ releases: [{ id: missing.body.id, retried: 1, state: 'pending' }] })
        expect(await settled(daemon.url, missing.body.id)).toMatchObject({ state: 'released' })
        expect(await registry.resolveTag('acme/db', 'released')).toBe(late)

        const history = await runCli(['releaser', 'history', '--state', state, '--component', 'api', '--json'])
        expect(history.exitCode, history.stderr).toBe(0)
        expect(await schemaErrors('releaser history', history.json)).toEqual([])
        expect(history.json).toMatchObject({
          entries: [{ component: 'api', tag: 'released', toDigest: api, action: 'moved', snapshot: 'shop-1' }],
        })
        const human = await runCli(['releaser', 'history', '--state', state])
        expect(human.stdout).toContain(`${registry.host}/acme/db:released`)

        const metrics = await (await fetch(`${daemon.url}/metrics`)).text()
        expect(metrics).toMatch(
          /konflux_gitops_releaser_registry_responses_total\{registry="127\.0\.0\.1:\d+",code="201"\} \d+/,
        )
        expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200)
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)
      const summary = JSON.parse(daemon.stdout())
      expect(await schemaErrors('releaser', summary)).toEqual([])
      expect(summary).toMatchObject({ reason: 'SIGTERM', events: { released: 2, pending: 0, failed: 0 } })
      const logs = daemon.stderr()
      expect(logs).toContain('"msg":"tag moved"')
      for (const secret of [SECRET, registry.password!]) expect(logs).not.toContain(secret)
    })
  })

  it('promotes into the repositories and tags of a ReleasePlan mapping', async () => {
    await withTempDir(async (dir) => {
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, SECRET)
      const mapping = join(dir, 'releaseplan.yaml')
      await writeFile(
        mapping,
        [
          'apiVersion: appstudio.redhat.com/v1alpha1',
          'kind: ReleasePlan',
          'metadata: { name: shop-released, namespace: acme-tenant }',
          'spec:',
          '  application: shop',
          '  data:',
          '    mapping:',
          '      defaults: { tags: [released, "{{ git_short_sha }}"] }',
          '      components:',
          `        - { name: api, repository: ${registry.host}/acme/prod/api }`,
        ].join('\n'),
      )
      const api = await registry.pushImage('acme/build/api', 'b1')
      const daemon = await startDaemon(
        [
          '--state',
          join(dir, 'state'),
          '--init-state',
          '--webhook-secret-file',
          secretFile,
          '--mapping',
          mapping,
          '--allow-source',
          registry.host,
        ],
        {
          port: await freePort(),
          env: registry.env,
        },
      )
      try {
        const body = snapshotBody('shop-9', '2026-11-24T10:00:00Z', [
          { name: 'api', image: `${registry.host}/acme/build/api@${api}` },
        ])
        const accepted = await post(daemon.url, body)
        expect(accepted.status).toBe(202)
        expect(await settled(daemon.url, accepted.body.id)).toMatchObject({
          state: 'released',
          retags: [
            { target: `${registry.host}/acme/prod/api:released`, state: 'moved' },
            { target: `${registry.host}/acme/prod/api:0000000`, state: 'moved' },
          ],
        })
        expect(await registry.resolveTag('acme/prod/api', 'released')).toBe(api)
        expect(await registry.resolveTag('acme/prod/api', '0000000')).toBe(api)
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)

      // A broken mapping stops the daemon before it listens, naming the file.
      await writeFile(mapping, 'mapping: [unclosed')
      const bad = await runCli(
        ['releaser', '--state', join(dir, 'state'), '--webhook-secret-file', secretFile, '--mapping', mapping],
        { timeoutMs: 15_000 },
      )
      expect(bad.exitCode).toBe(2)
      expect(bad.stderr).toContain('releaseplan.yaml')
    })
  })

  it('refuses to start without a secret, and the subcommands name a missing journal', async () => {
    await withTempDir(async (dir) => {
      const noSecret = await runCli(['releaser', '--state', dir, '--listen', '127.0.0.1:0'], {
        env: { KONFLUX_GITOPS_WEBHOOK_SECRET: undefined },
      })
      expect(noSecret.exitCode).toBe(2)
      expect(noSecret.stderr).toContain('no webhook secret')
      const history = await runCli(['releaser', 'history', '--state', join(dir, 'nowhere')])
      expect(history.exitCode).toBe(2)
      expect(history.stderr).toContain('no releaser journal')
      const retry = await runCli(['releaser', 'retry', '--state', dir])
      expect(retry.exitCode).toBe(2)
    })
  })
})
