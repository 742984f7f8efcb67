import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { UserError } from '../../cli/errors.js'
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js'
import type { Database, Row, Statements, Value } from './store.js'

export const JOURNAL_FILE = 'releaser.db'

/**
 * The embedded store: one SQLite file in WAL mode under --state DIR, for one replica.
 *
 * Durability is chosen per write. Accepting Snapshots (and `retry`) commits with `synchronous=FULL` (the WAL is
 * fsynced before the webhook answers 202), batched so one fsync covers every request that arrived meanwhile.
 * Worker bookkeeping commits with `synchronous=NORMAL`: it survives a killed process (the WAL is in the OS cache); a
 * power loss can only roll it back to an earlier state the releaser already passed through, from which it redoes
 * idempotent work (a HEAD shows the tag in place) and the newest-wins checks still hold, because every accepted
 * Snapshot is there.
 *
 * node:sqlite is synchronous; the journal's interface is not (PostgreSQL's cannot be). Transactions are queued one
 * after another on the one connection, so two of them never interleave at an await.
 */
class SqliteDatabase implements Database {
  readonly forUpdate = ''
  readonly skipLocked = ''
  readonly singleWorker = true
  private readonly statements = new Map<string, StatementSync>()
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(
    readonly location: string,
    private readonly db: DatabaseSync,
  ) {}

  get file(): string {
    return this.location
  }

  async reclaim(): Promise<void> {
    this.db.exec('PRAGMA incremental_vacuum(256)')
  }

  get isOpen(): boolean {
    return !this.closed && this.db.isOpen
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private readonly direct: Statements = {
    all: async (sql, params = []) => this.stmt(sql).all(...(params as SQLInputValue[])) as Row[],
    get: async (sql, params = []) => this.stmt(sql).get(...(params as SQLInputValue[])) as Row | undefined,
    run: async (sql, params = []) => Number(this.stmt(sql).run(...(params as SQLInputValue[])).changes),
  }

  all(sql: string, params?: readonly Value[]): Promise<Row[]> {
    return this.direct.all(sql, params)
  }

  get(sql: string, params?: readonly Value[]): Promise<Row | undefined> {
    return this.direct.get(sql, params)
  }

  /** A write outside a transaction waits for the running one: it must not become part of it. */
  run(sql: string, params?: readonly Value[]): Promise<number> {
    return this.serialised(() => this.direct.run(sql, params))
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn)
    this.queue = next.catch(() => {})
    return next
  }

  transaction<T>(fn: (tx: Statements) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    return this.serialised(async () => {
      if (options.durable) this.db.exec('PRAGMA synchronous=FULL')
      try {
        this.db.exec('BEGIN IMMEDIATE')
        try {
          const result = await fn(this.direct)
          this.db.exec('COMMIT')
          return result
        } catch (error) {
          if (this.db.isTransaction) this.db.exec('ROLLBACK')
          throw error
        }
      } finally {
        if (options.durable) this.db.exec('PRAGMA synchronous=NORMAL')
      }
    })
  }

  async lockKeys(_tx: Statements, keys: readonly string[]): Promise<string[]> {
    return [...keys]
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    this.db.close()
  }
}

/** Bring the file to SCHEMA_VERSION (PRAGMA user_version), or refuse one written by a newer releaser. */
function migrate(db: DatabaseSync, path: string): void {
  db.exec('BEGIN IMMEDIATE')
  try {
    let version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version)
    if (version > SCHEMA_VERSION) {
      throw new UserError(
        `the releaser journal ${path} has schema version ${version}; this releaser knows versions up to ${SCHEMA_VERSION}`,
        {
          code: 'journal-too-new',
          hint: 'Run the releaser version that wrote this journal (or a newer one); an older one must not change it.',
        },
      )
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue
      db.exec(migration.sqlite)
      version = migration.version
      db.exec(`PRAGMA user_version = ${version}`)
    }
    db.exec('COMMIT')
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw error
  }
}

/** Open (creating if needed) the SQLite journal under `stateDir`, migrated to this binary's schema. */
export function openSqlite(stateDir: string, options: { create?: boolean } = {}): Database {
  const path = join(stateDir, JOURNAL_FILE)
  let db: DatabaseSync | undefined
  try {
    if (options.create !== false) mkdirSync(stateDir, { recursive: true })
    db = new DatabaseSync(path, { open: true })
    // busy_timeout first: switching to WAL and migrating wait for a lock held by the daemon in another process.
    db.exec('PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;')
    // Only takes effect on a new file: pruned pages can then be handed back bit by bit, never with a VACUUM.
    db.exec('PRAGMA auto_vacuum=INCREMENTAL')
    migrate(db, path)
    return new SqliteDatabase(path, db)
  } catch (error) {
    db?.close()
    if (error instanceof UserError) throw error
    throw new UserError(`cannot open the releaser journal ${path}: ${(error as Error).message}`, {
      code: 'journal',
      hint: 'Pass --state DIR pointing at a writable directory (the same one the daemon uses).',
      cause: error,
    })
  }
}
