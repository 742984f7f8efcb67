/**
 * No tag moves back, by one rule for the daemon and the CLI: the image's own build time (config / labels), and the
 * Snapshot's creationTimestamp for the daemon's queue order. Real registry, real daemon process, real CLI.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'ordering-test-webhook-secret-0b7e2c'

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  return { status: res.status, body: (await res.json()) as { id: string; error?: string } }
}

async function settled(url: string, id: string): Promise<{ state: string; retags: Array<Record<string, unknown>> }> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const release = (await (await fetch(`${url}/v1/releases/${id}`)).json()) as {
      state: string
      retags: Array<Record<string, unknown>>
    }
    if (release.state !== 'pending') return release
    if (Date.now() > deadline) throw new Error(`release ${id} still pending`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('no tag moves back (daemon and CLI, one rule)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('B then A: the daemon keeps B, refuses Snapshots it cannot order, and the CLI will not put A back', async () => {
    await withTempDir(async (dir) => {
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, SECRET)
      const a = await registry.pushImage('order/api', undefined, { created: '2026-11-24T08:00:00Z' })
      const b = await registry.pushImage('order/api', undefined, { created: '2026-11-24T09:00:00Z' })
      const image = (digest: string) => [{ name: 'api', image: `${registry.host}/order/api@${digest}` }]
      const snapshotA = snapshotBody('shop-a', '2026-11-24T08:05:00Z', image(a))
      const snapshotB = snapshotBody('shop-b', '2026-11-24T09:05:00Z', image(b))
      const daemon = await startDaemon(
        [
          '--state',
          join(dir, 'state'),
          '--init-state',
          '--webhook-secret-file',
          secretFile,
          '--allow-source',
          registry.host,
        ],
        {
          port: await freePort(),
          env: registry.env,
        },
      )
      try {
        const acceptedB = await post(daemon.url, snapshotB)
        expect(acceptedB.status).toBe(202)
        expect(await settled(daemon.url, acceptedB.body.id)).toMatchObject({ state: 'released' })
        const acceptedA = await post(daemon.url, snapshotA)
        expect(acceptedA.status).toBe(202)
        expect((await settled(daemon.url, acceptedA.body.id)).retags).toMatchObject([
          { state: 'superseded', lastError: expect.stringContaining('newer Snapshot shop-b') },
        ])
        expect(await registry.resolveTag('order/api', 'released')).toBe(b)

        // Without a creationTimestamp, or with one from the future, a Snapshot cannot be ordered: 422, nothing stored.
        const untimed = JSON.parse(snapshotBody('shop-c', '2026-11-24T10:00:00Z', image(a)))
        delete untimed.metadata.creationTimestamp
        const missing = await post(daemon.url, JSON.stringify(untimed))
        expect(missing.status).toBe(422)
        expect(missing.body.error).toContain('metadata.creationTimestamp is missing')
        const future = new Date(Date.now() + 3_600_000).toISOString()
        const ahead = await post(daemon.url, snapshotBody('shop-d', future, image(a)))
        expect(ahead.status).toBe(422)
        expect(ahead.body.error).toContain('is in the future')
        const loose = await post(daemon.url, snapshotBody('shop-e', '2026-11-24', image(a)))
        expect(loose.status).toBe(422)

        // A Snapshot that is newer but names an older build: the image's build time wins, the tag stays at B.
        const late = await post(daemon.url, snapshotBody('shop-late', '2026-11-24T11:00:00Z', image(a)))
        expect(late.status).toBe(202)
        const refused = await settled(daemon.url, late.body.id)
        expect(refused).toMatchObject({ state: 'failed' })
        expect(String(refused.retags[0]!.lastError)).toContain(`not moved back: it points at ${b}`)
        expect(await registry.resolveTag('order/api', 'released')).toBe(b)
      } finally {
        daemon.kill('SIGTERM')
      }
      expect(await daemon.exited).toBe(0)

      // The CLI after the daemon: `release --snapshot A.json` must not silently put A back.
      const fileA = join(dir, 'a.json')
      await writeFile(fileA, snapshotA)
      const back = await runCli(['release', '--snapshot', fileA, '--json'], { env: registry.env })
      expect(back.exitCode).toBe(1)
      expect(back.stderr).toContain(b)
      expect(back.stderr).toContain(a)
      expect(back.stderr).toContain('built 2026-11-24T09:00:00.000Z')
      expect(back.json).toMatchObject({ summary: { refused: 1, moved: 0 }, results: [{ status: 'refused' }] })
      expect(await registry.resolveTag('order/api', 'released')).toBe(b)
      const dry = await runCli(['release', '--snapshot', fileA, '--dry-run'], { env: registry.env })
      expect(dry.exitCode).toBe(1)
      expect(dry.stdout).toContain('REFUSED')
      const forced = await runCli(['release', '--snapshot', fileA, '--allow-older'], { env: registry.env })
      expect(forced.exitCode, forced.stderr).toBe(0)
      expect(await registry.resolveTag('order/api', 'released')).toBe(a)
    })
  }, 90_000)

  it('two builds that cannot be ordered (no build time recorded): the tag does not move, and says why', async () => {
    await withTempDir(async (dir) => {
      const first = await registry.pushImage('order/web', 'released', { created: null })
      const second = await registry.pushImage('order/web', undefined, { created: '2026-11-24T09:00:00Z' })
      const file = join(dir, 's.json')
      await writeFile(
        file,
        snapshotBody('shop-w', '2026-11-24T09:05:00Z', [
          { name: 'web', image: `${registry.host}/order/web@${second}` },
        ]),
      )
      const result = await runCli(['release', '--snapshot', file], { env: registry.env })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(
        `cannot tell whether ${second} (built 2026-11-24T09:00:00.000Z) is newer than ${first} (no build time recorded)`,
      )
      expect(await registry.resolveTag('order/web', 'released')).toBe(first)
    })
  }, 60_000)
})
