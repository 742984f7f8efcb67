/**
 * Tags that need the registry ({{ timestamp }} from the image's build date, {{ incrementer }} from the target's tag
 * list) through the real releaser process and the real registry: the releaser moves exactly the tags
 * `konflux-gitops release` plans for the same Snapshot and mapping, and answers 503 (nothing stored) when the
 * registry those tags need cannot be read.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryClient } from '../../src/registry/index.js'
import { signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'intake-test-webhook-secret-7f31a2'

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as { id: string; error?: string } }
}

async function settled(url: string, id: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const release = (await (await fetch(`${url}/v1/releases/${id}`)).json()) as {
      state: string
      retags: { component: string; target: string; digest: string; state: string }[]
    }
    if (release.state !== 'pending') return release
    if (Date.now() > deadline) throw new Error(`release ${id} still pending: ${JSON.stringify(release)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('releaser: tags that need registry reads, as release plans them (real process, real registry)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' })
  })
  afterAll(async () => registry?.stop())

  it('moves exactly the {{ timestamp }} and {{ incrementer }} tags `release --dry-run` plans for the Snapshot', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'secret'), SECRET)
      const config = join(dir, 'releaser.yaml')
      await writeFile(
        config,
        [
          'defaults: { tags: ["{{ git_short_sha }}"], timestampFormat: "%F" }',
          'components:',
          `  - name: api`,
          `    repository: ${registry.host}/acme/prod/api`,
          '    tags: ["{{ timestamp }}", "v1.0-{{ incrementer }}"]',
          `  - name: web`,
          `    repository: ${registry.host}/acme/prod/web`,
          '    timestampFormat: "%Y%m%d.%H%M"',
          '    tags: ["build-{{ timestamp }}", "{{ incrementer }}"]',
          '',
        ].join('\n'),
      )
      // api: build-date label (Konflux's first choice); web: only the config's created time.
      const api = await registry.pushImage('acme/build/api', 'b1', {
        labels: { 'build-date': '2026-11-23T18:04:05' },
        created: '2020-01-01T00:00:00Z',
      })
      const web = await registry.pushImage('acme/build/web', 'b1', { created: '2026-11-24T07:30:59Z' })
      // Tags already in the targets: the incrementer counts on from the highest.
      const old = await registry.pushImage('acme/prod/api', 'v1.0-4')
      await registry.moveTag('acme/prod/api', 'v1.0-9', old)
      await registry.moveTag('acme/prod/api', 'v2.0-12', old)
      await registry.pushImage('acme/prod/web', '3')
      const body = snapshotBody('shop-1', '2026-11-24T09:00:00Z', [
        { name: 'api', image: `${registry.host}/acme/build/api@${api}` },
        { name: 'web', image: `${registry.host}/acme/build/web@${web}` },
      ])

      const cli = await runCli(['release', '--snapshot', '-', '--mapping', config, '--dry-run', '--json'], {
        input: body,
        env: registry.env,
      })
      expect(cli.exitCode, cli.stderr).toBe(0)
      const planned = (cli.json as { results: { target: string; digest: string; status: string }[] }).results
      expect(planned.every((r) => r.status === 'would-move')).toBe(true)
      const expected = planned.map((r) => `${r.target}@${r.digest}`).sort()
      expect(expected).toEqual(
        [
          `${registry.host}/acme/prod/api:0000000@${api}`,
          `${registry.host}/acme/prod/api:2026-11-23@${api}`,
          `${registry.host}/acme/prod/api:v1.0-10@${api}`,
          `${registry.host}/acme/prod/web:0000000@${web}`,
          `${registry.host}/acme/prod/web:4@${web}`,
          `${registry.host}/acme/prod/web:build-20261124.0730@${web}`,
        ].sort(),
      )

      const daemon = await startDaemon(
        [
          ...['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', join(dir, 'secret')],
          ...['--mapping', config, '--allow-source', `${registry.host}/acme/build/`],
        ],
        { port: await freePort(), env: registry.env },
      )
      try {
        const accepted = await post(daemon.url, body)
        expect(accepted.status, JSON.stringify(accepted.body)).toBe(202)
        const release = await settled(daemon.url, accepted.body.id)
        expect(release.state, JSON.stringify(release)).toBe('released')
        expect(release.retags.map((r) => `${r.target}@${r.digest}`).sort()).toEqual(expected)
        // Sent again after its tags landed (a redelivery): the stored plan stands, no second incrementer tag.
        const again = await post(daemon.url, body)
        expect(again.status).toBe(200)
        expect(again.body).toMatchObject({ id: accepted.body.id, duplicate: true })
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)
      // In the registry: the planned tags on the Snapshot's digests, the old ones untouched, nothing else.
      for (const line of expected) {
        const [target, digest] = line.split('@') as [string, string]
        const [, path, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(target)!
        expect(await registry.resolveTag(path!, tag!), line).toBe(digest)
      }
      const client = createRegistryClient({
        dockerConfigPath: registry.dockerConfigPath,
        ...(registry.caPem ? { ca: registry.caPem } : {}),
        retries: 0,
      })
      try {
        const apiTags = await client.listTags({ registry: registry.host, path: 'acme/prod/api' })
        expect(apiTags.sort()).toEqual(['0000000', '2026-11-23', 'v1.0-10', 'v1.0-4', 'v1.0-9', 'v2.0-12'])
        const webTags = await client.listTags({ registry: registry.host, path: 'acme/prod/web' })
        expect(webTags.sort()).toEqual(['0000000', '3', '4', 'build-20261124.0730'])
      } finally {
        await client.close()
      }
    })
  }, 90_000)

  it('answers 503 with Retry-After, storing nothing, when the registry the tags need cannot be read', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'secret'), SECRET)
      const dead = `127.0.0.1:${await freePort()}`
      const config = join(dir, 'releaser.yaml')
      await writeFile(
        config,
        ['components:', `  - { name: api, repository: ${dead}/acme/prod/api, tags: ["{{ timestamp }}"] }`, ''].join(
          '\n',
        ),
      )
      const daemon = await startDaemon(
        [
          ...['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', join(dir, 'secret')],
          ...['--mapping', config, '--allow-source', dead],
        ],
        { port: await freePort(), env: { ...registry.env, KONFLUX_GITOPS_PLAIN_HTTP: dead } },
      )
      try {
        const digest = `sha256:${'c'.repeat(64)}`
        const started = Date.now()
        const refused = await post(
          daemon.url,
          snapshotBody('shop-2', '2026-11-24T09:00:00Z', [{ name: 'api', image: `${dead}/acme/build/api@${digest}` }]),
        )
        expect(refused.status, JSON.stringify(refused.body)).toBe(503)
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(refused.body.error).toContain('nothing was stored, try again later')
        expect(Date.now() - started).toBeLessThan(20_000)
        const history = await runCli(['releaser', 'history', '--state', join(dir, 'state'), '--json'])
        expect(history.exitCode, history.stderr).toBe(0)
        expect(history.json).toEqual({ entries: [] })
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)
    })
  }, 60_000)
})
