import { afterAll } from 'vitest'
import { type Journal, openJournal } from '../../src/releaser/index.js'
import type { OpenOptions } from '../../src/releaser/journal/index.js'
import { type PostgresServer, startPostgres } from '../harness/postgres.js'
import { withTempDir } from '../helpers/cli.js'

/**
 * The journal's two stores, for tests that must hold on both: `withJournal(fn)` gives `fn` an `open()` that opens
 * (and re-opens, for a restart) one fresh journal: an SQLite file in a temporary directory, or a new database on a
 * PostgreSQL started for this test file (and stopped after it).
 */
export interface JournalStore {
  withJournal<T>(fn: (open: (options?: OpenOptions) => Promise<Journal>) => Promise<T>): Promise<T>
}

let server: Promise<PostgresServer> | undefined
afterAll(async () => {
  if (server) await (await server).stop()
  server = undefined
})

/** The PostgreSQL of this test file, started on first use. */
export function testPostgres(): Promise<PostgresServer> {
  server ??= startPostgres()
  return server
}

export const sqliteStore: JournalStore = {
  withJournal: (fn) => withTempDir((dir) => fn((options) => openJournal({ stateDir: dir }, options))),
}

export const postgresStore: JournalStore = {
  async withJournal(fn) {
    const databaseUrl = await (await testPostgres()).createDatabase()
    return fn((options) => openJournal({ databaseUrl }, options))
  },
}

export const JOURNAL_STORES: ReadonlyArray<[string, JournalStore]> = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
]
