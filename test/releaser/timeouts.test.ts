/**
 * A registry that accepts connections and never answers: the CLI's --timeout and --request-timeout fire, and the
 * daemon's --shutdown-timeout holds. Real processes against a real stalled socket.
 */
import { writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { freePort } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'timeouts-test-webhook-secret-6d02aa'

describe('timeouts against a stalled registry', () => {
  const sockets = new Set<Socket>()
  let connections = 0
  const stalled = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    // Read and never answer.
    socket.resume()
  })
  let host: string
  beforeAll(async () => {
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(stalled.address() as import('node:net').AddressInfo).port}`
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => stalled.close(resolve))
  })
  const digest = `sha256:${'c'.repeat(64)}`
  const env = () => ({ KONFLUX_GITOPS_PLAIN_HTTP: host, DOCKER_CONFIG: '/nonexistent' })

  it('release --timeout ends the run with exit 1 and says so; --request-timeout fails the stalled request', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 's.json')
      await writeFile(
        file,
        snapshotBody('stall-1', '2026-11-24T09:00:00Z', [{ name: 'api', image: `${host}/acme/api@${digest}` }]),
      )
      const started = Date.now()
      const overall = await runCli(['release', '--snapshot', file, '--timeout', '2'], { env: env(), timeoutMs: 30_000 })
      expect(overall.exitCode).toBe(1)
      expect(overall.stderr).toContain('release did not finish within --timeout 2s')
      expect(Date.now() - started).toBeLessThan(15_000)

      const before = Date.now()
      const perRequest = await runCli(['release', '--snapshot', file, '--request-timeout', '1'], {
        env: env(),
        timeoutMs: 60_000,
      })
      expect(perRequest.exitCode).toBe(1)
      expect(perRequest.stderr).toMatch(/Headers Timeout|UND_ERR_HEADERS_TIMEOUT|timeout/i)
      expect(Date.now() - before).toBeLessThan(45_000)
    })
  }, 90_000)

  it('the daemon stops within --shutdown-timeout while a registry connection is stalled, parking the retag', async () => {
    await withTempDir(async (dir) => {
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, SECRET)
      const daemon = await startDaemon(
        [
          ...['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', secretFile],
          ...['--allow-source', host, '--shutdown-timeout', '1', '--json'],
        ],
        { port: await freePort(), env: env() },
      )
      const body = snapshotBody('stall-2', '2026-11-24T09:00:00Z', [
        { name: 'api', image: `${host}/acme/api@${digest}` },
      ])
      const res = await fetch(`${daemon.url}/v1/snapshots`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
        body,
      })
      expect(res.status).toBe(202)
      const seen = connections
      for (let i = 0; i < 100 && connections === seen; i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(connections).toBeGreaterThan(seen)
      const stopping = Date.now()
      daemon.kill('SIGTERM')
      expect(await daemon.exited).toBe(0)
      const took = Date.now() - stopping
      expect(took).toBeLessThan(1000 + 3000)
      expect(JSON.parse(daemon.stdout())).toMatchObject({ parked: 1, events: { pending: 1 } })
    })
  }, 60_000)
})
