import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { JOURNAL_FILE, openJournal, SCHEMA_VERSION } from '../../src/releaser/index.js'
import { Worker } from '../../src/releaser/worker.js'
import { withTempDir } from '../helpers/cli.js'
import { testPostgres } from './journal-stores.js'
import { MemoryExecutor } from './memory-executor.js'

/**
 * A journal written by the first releaser (commit 3425d6a: events/retags/notifications, no user_version), holding
 * shop-1 released and notified, shop-2 failed (db: 503) with its notification pending, shop-0 (older) and shop-3
 * pending for web, and the Kubernetes cursor 4242.
 */
const FIRST_LAYOUT = fileURLToPath(new URL('../fixtures/releaser/journal-first-layout.db', import.meta.url))
const IDS = {
  zero: '1014517c-39e7-4831-bf80-91e20a411538',
  one: '7c45c332-a429-4bcf-93de-fd89ffaaf868',
  two: '0d8d3f3f-4fa5-4b0c-bb8d-14ad5ccceb94',
  three: 'b75fb797-dd22-4927-88be-8717cc96d7ef',
}
const digest = (s: string) => `sha256:${s.repeat(64)}`

describe('journal schema', () => {
  it('migrates a journal of the first layout: nothing lost, pending work finishes, newest-wins still holds', async () => {
    await withTempDir(async (dir) => {
      await copyFile(FIRST_LAYOUT, join(dir, JOURNAL_FILE))
      const journal = await openJournal({ stateDir: dir }, { create: false })
      try {
        const version = new DatabaseSync(join(dir, JOURNAL_FILE), { readOnly: true })
        expect(version.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION })
        version.close()

        expect((await journal.release(IDS.one))!).toMatchObject({
          snapshot: 'shop-1',
          state: 'released',
          retags: [
            { component: 'api', state: 'moved', attempts: 1 },
            { component: 'web', state: 'moved', attempts: 1 },
          ],
          notifications: [{ repository: 'acme/shop-gitops', state: 'sent', outcome: 'dispatched' }],
        })
        expect((await journal.release(IDS.two))!).toMatchObject({
          state: 'failed',
          retags: [
            { component: 'api', state: 'moved' },
            { component: 'db', state: 'failed', lastError: '503 Service Unavailable' },
          ],
          notifications: [{ state: 'pending' }],
        })
        expect(await journal.failedReleaseIds()).toEqual([IDS.two])
        expect(await journal.cursor('kubernetes/snapshots')).toBe('4242')
        expect((await journal.history()).map((h) => [h.snapshot, h.component, h.action])).toEqual([
          ['shop-2', 'api', 'moved'],
          ['shop-1', 'web', 'moved'],
          ['shop-1', 'api', 'moved'],
        ])
        expect(await journal.tagPointer('registry.test/acme/api:released')).toMatchObject({
          snapshot: 'shop-2',
          digest: digest('c'),
        })
        expect(await journal.pendingCount()).toBe(2)

        // The queue carried over works: web ends at the newest Snapshot (shop-3), the late shop-0 never lands,
        // and the pending notification of shop-2 is claimable.
        const registry = new MemoryExecutor()
        const worker = new Worker(journal, registry, { pollMs: 10, baseBackoffMs: 5, maxBackoffMs: 20 })
        worker.start()
        const deadline = Date.now() + 10_000
        while ((await journal.pendingCount()) > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        await worker.stop(1000)
        expect(registry.puts).toEqual([{ target: 'registry.test/acme/web:released', digest: digest('f') }])
        expect((await journal.release(IDS.zero))!.retags[0]).toMatchObject({ state: 'superseded' })
        expect((await journal.release(IDS.three))!).toMatchObject({ state: 'released' })
        expect((await journal.claimNotifications(10)).map((n) => [n.release, n.repository])).toEqual([
          [IDS.two, 'acme/shop-gitops'],
        ])
        // Retrying the failed release works on the migrated rows too.
        expect(await journal.retry(IDS.two)).toBe(1)
      } finally {
        await journal.close()
      }
    })
  })

  it('refuses an SQLite journal written by a newer releaser, and leaves it as it was', async () => {
    await withTempDir(async (dir) => {
      await (await openJournal({ stateDir: dir })).close()
      const path = join(dir, JOURNAL_FILE)
      const db = new DatabaseSync(path)
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}; PRAGMA journal_mode=DELETE;`)
      db.close()
      await expect(openJournal({ stateDir: dir })).rejects.toMatchObject({
        code: 'journal-too-new',
        message: expect.stringContaining(`schema version ${SCHEMA_VERSION + 1}`),
      })
      const after = new DatabaseSync(path, { readOnly: true })
      expect(after.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION + 1 })
      expect(
        after.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'steps'`).get(),
      ).toBeDefined()
      after.close()
    })
  })

  it('PostgreSQL: replicas starting together migrate once; a newer schema is refused; the password never shows', async () => {
    const server = await testPostgres()
    const url = await server.createDatabase()
    const journals = await Promise.all([1, 2, 3].map(() => openJournal({ databaseUrl: url })))
    for (const journal of journals) {
      expect(journal.location).not.toContain(server.password)
      await journal.close()
    }
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version')
      expect(rows.map((r) => r.version)).toEqual([1, 2, 3])
      await client.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, [
        SCHEMA_VERSION + 1,
      ])
    } finally {
      await client.end()
    }
    const refused = await openJournal({ databaseUrl: url }).catch((error: Error) => error)
    expect(refused).toMatchObject({ code: 'journal-too-new' })
    expect((refused as Error).message).not.toContain(server.password)
    const unreachable = await openJournal({
      databaseUrl: `postgres://kg:${server.password}@127.0.0.1:1/nowhere`,
    }).catch((error: Error) => error)
    expect(unreachable).toMatchObject({ code: 'journal' })
    expect((unreachable as Error).message).not.toContain(server.password)
  })
})
