/**
 * Nothing lost without a word: the daemon's claim on its state, a journal that disappears or whose disk fills up,
 * and retention. Real processes on real files (a tmpfs the test mounts for the full disk, when it may mount).
 */
import { execFileSync } from 'node:child_process'
import { mkdir, open, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openJournal, signBody } from '../../src/releaser/index.js'
import { freePort, startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { startDaemon } from './daemon-process.js'
import { snapshotBody } from './snapshots.js'

const SECRET = 'state-test-webhook-secret-51aa0e'
const IMAGE = `registry.invalid/acme/api@sha256:${'a'.repeat(64)}`
let registry: TestRegistry
let image: string
beforeAll(async () => {
  registry = await startRegistry()
  image = `${registry.host}/acme/api@${await registry.pushImage('acme/api', 'build')}`
})
afterAll(async () => {
  await registry?.stop()
})

async function post(url: string, name: string) {
  const body = snapshotBody(name, new Date(Date.now() - 60_000).toISOString(), [{ name: 'api', image }])
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
    body,
  })
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { error?: string },
  }
}

async function readyz(url: string) {
  const res = await fetch(`${url}/readyz`)
  return { status: res.status, body: (await res.json()) as { reasons: string[] } }
}

async function setup(dir: string, state: string) {
  const secretFile = join(dir, 'secret')
  await writeFile(secretFile, SECRET)
  return [
    '--state',
    state,
    '--webhook-secret-file',
    secretFile,
    '--shutdown-timeout',
    '1',
    '--allow-source',
    registry.host,
  ]
}

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('releaser state', () => {
  it('a second daemon on the same state refuses to start and names the holder; a missing state needs --init-state', async () => {
    await withTempDir(async (dir) => {
      const state = join(dir, 'state')
      const args = await setup(dir, state)
      const missing = await runCli(['releaser', ...args, '--listen', '127.0.0.1:0'], { timeoutMs: 15_000 })
      expect(missing.exitCode).toBe(2)
      expect(missing.stderr).toContain(`state directory ${state} does not exist`)
      expect(missing.stderr).toContain('--init-state')

      const first = await startDaemon([...args, '--init-state'], { port: await freePort(), env: registry.env })
      try {
        const second = await runCli(['releaser', ...args, '--listen', `127.0.0.1:${await freePort()}`], {
          timeoutMs: 15_000,
        })
        expect(second.exitCode).toBe(1)
        expect(second.stderr).toContain(
          `state directory ${state} is in use by another releaser (pid ${first.child.pid}`,
        )
        expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
      } finally {
        first.kill('SIGKILL')
      }
      await first.exited
      // kill -9 leaves no stale lock: the kernel dropped it with the process.
      const again = await startDaemon(args, { port: await freePort(), env: registry.env })
      again.kill('SIGTERM')
      expect(await again.exited).toBe(0)
    })
  }, 60_000)

  it('a journal deleted or replaced while running: not ready, and writes answer 503', async () => {
    await withTempDir(async (dir) => {
      const state = join(dir, 'state')
      const args = await setup(dir, state)
      const daemon = await startDaemon([...args, '--init-state'], { port: await freePort(), env: registry.env })
      try {
        expect((await post(daemon.url, 'before')).status).toBe(202)
        await unlink(join(state, 'releaser.db'))
        const ready = await readyz(daemon.url)
        expect(ready.status).toBe(503)
        expect(ready.body.reasons.join()).toContain('has disappeared')
        const refused = await post(daemon.url, 'after')
        expect(refused.status).toBe(503)
        expect(refused.body.error).toContain('has disappeared')
        // Another file put in its place (a restored backup, an empty volume) is not the journal the daemon holds.
        await writeFile(join(state, 'releaser.db'), '')
        expect((await readyz(daemon.url)).body.reasons.join()).toContain('was replaced')
        expect((await post(daemon.url, 'replaced')).status).toBe(503)
      } finally {
        daemon.kill('SIGTERM')
      }
      await daemon.exited
      expect(daemon.stderr()).not.toContain('"level":50,"time"') // no crash, only refusals
    })
  }, 60_000)

  it('a journal corrupted under the daemon: not ready, and writes answer 503', async () => {
    await withTempDir(async (dir) => {
      const state = join(dir, 'state')
      const args = await setup(dir, state)
      const daemon = await startDaemon([...args, '--init-state'], { port: await freePort(), env: registry.env })
      try {
        expect((await post(daemon.url, 'before')).status).toBe(202)
        // Same file, same inode, overwritten with garbage (a bad disk, a half-restored copy).
        const file = await open(join(state, 'releaser.db'), 'r+')
        const { size } = await file.stat()
        await file.write(Buffer.alloc(size, 0x5a), 0, undefined, 0)
        await file.close()
        const ready = await readyz(daemon.url)
        expect(ready.status).toBe(503)
        expect(ready.body.reasons.join()).toContain('is corrupt')
        expect((await post(daemon.url, 'after')).status).toBe(503)
      } finally {
        daemon.kill('SIGKILL')
      }
      await daemon.exited
    })
  }, 60_000)

  it.skipIf(!canMount())(
    'disk full: 503 with Retry-After, not ready, the real error logged; recovers when space returns',
    async () => {
      await withTempDir(async (dir) => {
        const mount = join(dir, 'small')
        await mkdir(mount)
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount])
        try {
          const state = join(mount, 'state')
          const args = await setup(dir, state)
          const daemon = await startDaemon([...args, '--init-state'], { port: await freePort(), env: registry.env })
          try {
            expect((await post(daemon.url, 'fits')).status).toBe(202)
            // Fill the file system to the last byte.
            try {
              execFileSync('dd', ['if=/dev/zero', `of=${join(mount, 'fill')}`, 'bs=4k'], { stdio: 'ignore' })
            } catch {
              // dd ends with ENOSPC: that is the point
            }
            const statuses: number[] = []
            let full: Awaited<ReturnType<typeof post>> | undefined
            for (let i = 0; i < 20 && !full; i++) {
              const answer = await post(daemon.url, `full-${i}-${'x'.repeat(200)}`.slice(0, 60))
              statuses.push(answer.status)
              if (answer.status === 503) full = answer
            }
            expect(full, `statuses ${statuses.join(',')}`).toBeDefined()
            expect(full!.retryAfter).toBe('10')
            expect(full!.body.error).toContain('cannot be written')
            expect((await readyz(daemon.url)).status).toBe(503)
            expect(daemon.stderr()).toMatch(
              /journal write failed.*(full|SQLITE_FULL)|(full|SQLITE_FULL).*journal write failed/,
            )
            expect(daemon.stderr()).not.toContain('cannot rollback')

            await rm(join(mount, 'fill'))
            expect((await readyz(daemon.url)).status).toBe(200)
            expect((await post(daemon.url, 'after-space')).status).toBe(202)
          } finally {
            daemon.kill('SIGTERM')
          }
          expect(await daemon.exited).toBe(0)
        } finally {
          execFileSync('umount', ['-l', mount])
        }
      })
    },
    60_000,
  )

  it('retention prunes finished releases in batches and keeps what tags point at', async () => {
    await withTempDir(async (dir) => {
      const journal = await openJournal({ stateDir: dir })
      try {
        const retag = (n: number) => ({
          component: 'api',
          source: IMAGE,
          registry: 'registry.invalid',
          repository: 'registry.invalid/acme/api',
          tag: `t${n}`,
          digest: `sha256:${'a'.repeat(64)}`,
        })
        const old = Date.now() - 40 * 86_400_000
        for (let i = 0; i < 30; i++) {
          await journal.accept(
            {
              snapshot: `s${i}`,
              namespace: 'acme',
              application: 'shop',
              createdAt: new Date(old + i).toISOString(),
              body: '{}',
              source: 'webhook',
              retags: [retag(i)],
            },
            old + i,
          )
        }
        const recent = await journal.accept({
          snapshot: 'recent',
          namespace: 'acme',
          application: 'shop',
          createdAt: new Date().toISOString(),
          body: '{}',
          source: 'webhook',
          retags: [retag(99)],
        })
        // One step per repository at a time: claim until every tag of the repository moved.
        for (
          let claimed = await journal.claimRetags(100);
          claimed.length > 0;
          claimed = await journal.claimRetags(100)
        ) {
          for (const record of claimed) {
            await journal.startAttempt(record)
            await journal.succeeded(record, { action: 'moved', fromDigest: null, durationMs: 1 }, record.receivedAt + 1)
          }
        }
        const pending = await journal.accept(
          {
            snapshot: 'old-but-pending',
            namespace: 'acme',
            application: 'shop',
            createdAt: new Date(old).toISOString(),
            body: '{}',
            source: 'webhook',
            retags: [retag(100)],
          },
          old,
        )
        const cutoff = Date.now() - 30 * 86_400_000
        expect(await journal.prune(cutoff, 20)).toBe(20)
        expect(await journal.prune(cutoff, 20)).toBe(10)
        expect(await journal.prune(cutoff, 20)).toBe(0)
        expect((await journal.release(recent.id))?.state).toBe('released')
        expect((await journal.release(pending.id))?.state).toBe('pending')
        expect((await journal.counts()).events).toEqual({ pending: 1, released: 1, failed: 0 })
        expect((await journal.history()).map((h) => h.snapshot)).toEqual(['recent'])
        expect((await journal.tagPointer('registry.invalid/acme/api:t0'))?.snapshot).toBe('s0')
      } finally {
        await journal.close()
      }
    })
  })
})
