/**
 * Nothing reaches a registry it should not: the releaser's allowlist (real daemon process, a loopback listener
 * that must see no connection), /readyz that checks only configured registries, and credentials that never go to
 * a token realm on plain HTTP or another host.
 */

import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryClient } from '../../src/registry/index.js'
import { signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'allowlist-test-webhook-secret-93c1d7'

/** A loopback listener that counts every TCP connection and every Authorization header it is sent. */
async function listener(handler?: (url: string, res: import('node:http').ServerResponse) => void) {
  let connections = 0
  const authorizations: string[] = []
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization)
    if (handler) handler(req.url ?? '/', res)
    else res.writeHead(404).end()
  })
  server.on('connection', () => {
    connections++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    host,
    get connections() {
      return connections
    },
    authorizations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  return { status: res.status, body: (await res.json()) as { id: string; error?: string } }
}

describe('releaser allowlist and credentials', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('refuses with 422 a signed Snapshot naming a registry it may not touch; no connection is made', async () => {
    await withTempDir(async (dir) => {
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, SECRET)
      const config = join(dir, 'releaser.yaml')
      await writeFile(
        config,
        [
          `allow: { sources: ["${registry.host}/acme/build/"] }`,
          'components:',
          `  - { name: api, repository: ${registry.host}/acme/prod/api }`,
        ].join('\n'),
      )
      const attacker = await listener()
      // A registry only requests name: never contacted, not even by /readyz.
      const bystander = await listener()
      const daemon = await startDaemon(
        ['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', secretFile, '--mapping', config],
        { port: await freePort(), env: { ...registry.env, KONFLUX_GITOPS_PLAIN_HTTP: attacker.host } },
      )
      try {
        const digest = `sha256:${'b'.repeat(64)}`
        const evil = await post(
          daemon.url,
          snapshotBody('evil-1', '2026-11-24T09:00:00Z', [
            { name: 'api', image: `${attacker.host}/acme/build/api@${digest}` },
          ]),
        )
        expect(evil.status).toBe(422)
        expect(evil.body.error).toContain(
          `source ${attacker.host}/acme/build/api is not in the releaser's allowed sources`,
        )
        const sideways = await post(
          daemon.url,
          snapshotBody('evil-2', '2026-11-24T09:00:00Z', [
            { name: 'api', image: `${registry.host}/acme/other/api@${digest}` },
          ]),
        )
        expect(sideways.status).toBe(422)
        const unmapped = await post(
          daemon.url,
          snapshotBody('evil-3', '2026-11-24T09:00:00Z', [{ name: 'web', image: `${bystander.host}/x/web@${digest}` }]),
        )
        expect(unmapped.status).toBe(422)

        const api = await registry.pushImage('acme/build/api', 'b1')
        const good = await post(
          daemon.url,
          snapshotBody('good-1', '2026-11-24T09:00:00Z', [
            { name: 'api', image: `${registry.host}/acme/build/api@${api}` },
          ]),
        )
        expect(good.status).toBe(202)
        const ready = await fetch(`${daemon.url}/readyz`)
        expect(ready.status, JSON.stringify(await ready.clone().json())).toBe(200)
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(attacker.connections).toBe(0)
        expect(bystander.connections).toBe(0)
      } finally {
        daemon.kill('SIGTERM')
        await attacker.stop()
        await bystander.stop()
      }
      expect(await daemon.exited).toBe(0)

      // No allowlist at all: the daemon does not start unless told to accept any registry.
      const open = await runCli(
        ['releaser', '--state', join(dir, 'state'), '--webhook-secret-file', secretFile, '--listen', '127.0.0.1:0'],
        { timeoutMs: 15_000 },
      )
      expect(open.exitCode).toBe(2)
      expect(open.stderr).toContain('no registry allowlist')
      expect(open.stderr).toContain('--allow-any-registry')
    })
  }, 60_000)

  it('never sends credentials to a Bearer realm on plain http or on another host', async () => {
    const realm = await listener((_url, res) => res.writeHead(200).end('{"token":"t"}'))
    for (const realmUrl of [`http://${realm.host}/token`, 'https://realm.invalid/token']) {
      const fake = await listener((_url, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realmUrl}",service="fake"` }).end()
      })
      const client = createRegistryClient({
        plainHttp: [fake.host],
        credentials: () => ({ kind: 'basic', username: 'robot', password: 'robot-password-123' }),
        retries: 0,
      })
      try {
        const failed = await client
          .resolveDigest(`${fake.host}/acme/api:released`)
          .then(() => undefined)
          .catch((error: Error) => error)
        expect(failed?.message).toContain(`refusing to send the credentials for ${fake.host} to its token realm`)
        expect(failed?.message).toMatch(/not HTTPS|on another host/)
      } finally {
        await client.close()
        await fake.stop()
      }
    }
    expect(realm.connections).toBe(0)
    expect(realm.authorizations).toEqual([])
    await realm.stop()
  })
})
