import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { generateKeyPair, signImage } from '../harness/cosign.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'verify-test-webhook-secret-51e0'

async function settled(url: string, id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const release = (await (await fetch(`${url}/v1/releases/${id}`)).json()) as Record<string, unknown>
    if (release.state !== 'pending') return release
    if (Date.now() > deadline) throw new Error(`release ${id} still pending: ${JSON.stringify(release)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('releaser with verify keys in its config (real process, real registry)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' })
  })
  afterAll(async () => registry?.stop())

  it('refuses an unsigned digest (journal state refused, nothing moves for it) and releases it once signed', async () => {
    await withTempDir(async (dir) => {
      const chains = generateKeyPair()
      await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
      await writeFile(join(dir, 'secret'), SECRET)
      const config = join(dir, 'releaser.yaml')
      await writeFile(
        config,
        [
          'defaults: { tags: [released] }',
          'components:',
          `  - { name: api, repository: ${registry.host}/acme/api }`,
          `  - { name: web, repository: ${registry.host}/acme/web }`,
          'verify:',
          '  keys: [cosign.pub]',
          '',
        ].join('\n'),
      )
      const api = await registry.pushImage('acme/api', 'b1')
      const web = await registry.pushImage('acme/web', 'b1', { platforms: ['linux/amd64', 'linux/arm64'] })
      await signImage(registry, 'acme/api', api, chains)
      const state = join(dir, 'state')
      const daemon = await startDaemon(
        [
          ...['--state', state, '--init-state', '--webhook-secret-file', join(dir, 'secret'), '--mapping', config],
          ...['--json', '--allow-source', registry.host],
        ],
        { port: await freePort(), env: registry.env },
      )
      try {
        const body = snapshotBody('shop-1', '2026-11-24T09:00:00Z', [
          { name: 'api', image: `${registry.host}/acme/api@${api}` },
          { name: 'web', image: `${registry.host}/acme/web@${web}` },
        ])
        const res = await fetch(`${daemon.url}/v1/snapshots`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
          body,
        })
        expect(res.status).toBe(202)
        const { id } = (await res.json()) as { id: string }
        const release = (await settled(daemon.url, id)) as {
          state: string
          retags: { component: string; state: string; attempts: number; lastError: string | null }[]
        }
        expect(release.state, JSON.stringify(release)).toBe('failed')
        const byComponent = Object.fromEntries(release.retags.map((r) => [r.component, r]))
        expect(byComponent.api?.state).toBe('moved')
        expect(byComponent.web).toMatchObject({ state: 'refused', attempts: 1 })
        expect(byComponent.web?.lastError).toContain(`acme/web@${web} has no signature`)
        expect(byComponent.web?.lastError).toContain(`${web.replace(':', '-')}.sig`)
        expect(await registry.resolveTag('acme/api', 'released')).toBe(api)
        expect(await registry.resolveTag('acme/web', 'released')).toBeUndefined()

        // Chains signs the index later: `releaser retry` checks again and the tag moves.
        await signImage(registry, 'acme/web', web, chains)
        const retry = await runCli(['releaser', 'retry', id, '--state', state, '--json'])
        expect(retry.exitCode, retry.stderr).toBe(0)
        expect(await settled(daemon.url, id)).toMatchObject({ state: 'released' })
        expect(await registry.resolveTag('acme/web', 'released')).toBe(web)
        expect(daemon.stderr()).toContain('retag refused: the digest is not signed by a trusted key')
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)
      const summary = JSON.parse(daemon.stdout())
      expect(await schemaErrors('releaser', summary)).toEqual([])
      expect(summary.retags).toMatchObject({ moved: 2, refused: 0 })
    })
  })

  it('the releaser config: verify.keys relative to the file, builderId becomes the provenance policy', async () => {
    await withTempDir(async (dir) => {
      const { loadVerifyConfig } = await import('../../src/releaser/wiring.js')
      await mkdir(join(dir, 'keys'))
      await writeFile(join(dir, 'keys', 'chains.pub'), generateKeyPair().publicPem)
      const config = join(dir, 'releaser.yaml')
      await writeFile(config, 'verify:\n  keys: [keys/chains.pub]\n  builderId: https://tekton.dev/chains/v2\n')
      const loaded = await loadVerifyConfig([], config)
      expect(loaded?.keys.map((k) => k.kind)).toEqual(['ecdsa-p256'])
      expect(loaded?.attestation).toEqual({ builderId: 'https://tekton.dev/chains/v2' })
      expect(await loadVerifyConfig([], undefined)).toBeUndefined()
      await writeFile(config, 'verify:\n  keys: chains.pub\n')
      await expect(loadVerifyConfig([], config)).rejects.toThrow(/verify.keys must be a list of public key files/)
    })
  })

  it('a verify key that is not a public key stops the daemon before it listens (exit 2)', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'secret'), SECRET)
      await writeFile(join(dir, 'bad.pub'), 'nope')
      const run = await runCli([
        'releaser',
        '--state',
        join(dir, 'state'),
        '--webhook-secret-file',
        join(dir, 'secret'),
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--verify-key',
        join(dir, 'bad.pub'),
      ])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toContain('bad.pub: no PEM block found')
    })
  })
})
