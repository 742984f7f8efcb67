import type { Pool, PoolClient } from 'pg'
import { UserError } from '../../cli/errors.js'
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js'
import type { Database, Row, Statements, Value } from './store.js'

/** `postgres://user:secret@host/db` → `postgres://user@host/db`: what logs and errors may show. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, 'redacted')
    }
    return parsed.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/** `?` placeholders (the journal's SQL is written once for both stores) → PostgreSQL's `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/** One advisory-lock namespace for the journal's serialisation keys (the first int of the two-int form). */
const KEY_LOCK_SPACE = 0x6b67 // "kg"
const MIGRATION_LOCK = 0x6b67_0001

/** Deadlock or serialisation failure: the transaction did nothing and is run again. */
const RETRYABLE = new Set(['40P01', '40001'])

function statements(client: Pool | PoolClient): Statements {
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), params as Value[])).rows as Row[],
    get: async (sql, params = []) => (await client.query(numbered(sql), params as Value[])).rows[0] as Row | undefined,
    run: async (sql, params = []) => (await client.query(numbered(sql), params as Value[])).rowCount ?? 0,
  }
}

/**
 * The shared store: PostgreSQL, for any number of replicas. Each commit is durable when it returns (the server's
 * synchronous_commit), so a 202 still means "on disk". Steps are claimed with SELECT … FOR UPDATE SKIP LOCKED under a
 * transaction-scoped advisory lock per serialisation key (lockKeys), so two replicas never write one repository at
 * once; a transaction that deadlocks with another replica's is retried.
 */
class PostgresDatabase implements Database {
  readonly forUpdate = ' FOR UPDATE'
  readonly skipLocked = ' FOR UPDATE OF s SKIP LOCKED'
  readonly singleWorker = false
  readonly file = undefined
  private readonly direct: Statements
  private closed = false

  constructor(
    readonly location: string,
    private readonly pool: Pool,
  ) {
    this.direct = statements(pool)
  }

  get isOpen(): boolean {
    return !this.closed
  }

  all(sql: string, params?: readonly Value[]): Promise<Row[]> {
    return this.direct.all(sql, params)
  }

  get(sql: string, params?: readonly Value[]): Promise<Row | undefined> {
    return this.direct.get(sql, params)
  }

  run(sql: string, params?: readonly Value[]): Promise<number> {
    return this.direct.run(sql, params)
  }

  async transaction<T>(fn: (tx: Statements) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(statements(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        const code = (error as { code?: string }).code
        if (!(code && RETRYABLE.has(code) && attempt < 5)) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt))
      } finally {
        client.release()
      }
    }
  }

  async reclaim(): Promise<void> {}

  async lockKeys(tx: Statements, keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return []
    const rows = await tx.all(
      'SELECT k FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n) WHERE pg_try_advisory_xact_lock(?, hashtext(k)) ORDER BY n',
      [keys as unknown as Value, KEY_LOCK_SPACE],
    )
    return rows.map((row) => String(row.k))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }
}

/** Bring the database to SCHEMA_VERSION (schema_migrations), one replica at a time; refuse a newer one. */
async function migrate(pool: Pool, location: string): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    )
    const { rows } = await client.query('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations')
    const version = Number(rows[0].version)
    if (version > SCHEMA_VERSION) {
      throw new UserError(
        `the releaser journal ${location} has schema version ${version}; this releaser knows versions up to ${SCHEMA_VERSION}`,
        {
          code: 'journal-too-new',
          hint: 'Run the releaser version that wrote this journal (or a newer one); an older one must not change it.',
        },
      )
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue
      if (migration.postgres) await client.query(migration.postgres)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** Connect to the PostgreSQL journal at `url`, migrated to this binary's schema. The URL's password is never shown. */
export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<Database> {
  const location = redactDatabaseUrl(url)
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 })
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  try {
    await migrate(pool, location)
  } catch (error) {
    await pool.end().catch(() => {})
    if (error instanceof UserError) throw error
    // pg's messages name the host and user, never the password; the URL in ours is redacted.
    throw new UserError(`cannot open the releaser journal ${location}: ${(error as Error).message}`, {
      code: 'journal',
      hint: 'Check --database-url / KONFLUX_GITOPS_DATABASE_URL: the server must be reachable and the user able to create tables.',
      cause: error,
    })
  }
  return new PostgresDatabase(location, pool)
}
