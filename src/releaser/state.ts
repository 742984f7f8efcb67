import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { UserError } from '../cli/errors.js'

export const LOCK_FILE = 'releaser.lock'
const HOLDER_FILE = 'releaser.lock.json'

/** Who holds a state directory: written beside the lock so a second daemon can name it. */
export interface LockHolder {
  readonly pid: number
  readonly host: string
  readonly since: string
}

/**
 * The exclusive claim of one daemon on a state directory. The lock itself is SQLite's: a small database opened in
 * `locking_mode=EXCLUSIVE` keeps an OS file lock for as long as the process lives, and the kernel drops it when the
 * process dies (kill -9 included), so a crash never leaves a stale lock behind. No npm lock package does that
 * (they use lock directories with mtime heartbeats, which a restart right after a kill -9 would trip over).
 */
export class StateLock {
  private constructor(
    private readonly db: DatabaseSync,
    readonly holder: LockHolder,
  ) {}

  /**
   * Claim `stateDir` or throw, naming the holder. A missing directory is an error unless `init` (a volume that did
   * not mount must not look like a fresh start).
   */
  static acquire(stateDir: string, options: { init?: boolean } = {}): StateLock {
    if (!existsSync(stateDir)) {
      if (!options.init) {
        throw new UserError(`state directory ${stateDir} does not exist`, {
          exit: 2,
          code: 'no-state',
          hint: 'Check that the volume is mounted there; pass --init-state to start a new journal on purpose.',
        })
      }
      mkdirSync(stateDir, { recursive: true })
    }
    const db = new DatabaseSync(join(stateDir, LOCK_FILE))
    try {
      db.exec('PRAGMA busy_timeout=0; PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=DELETE;')
      // The first write takes the exclusive lock; in EXCLUSIVE mode it is kept after the commit.
      db.exec('CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY, at TEXT NOT NULL)')
      db.exec(`INSERT OR REPLACE INTO lock (id, at) VALUES (1, '${new Date().toISOString()}')`)
    } catch (error) {
      db.close()
      if (!/locked|busy/i.test((error as Error).message)) throw error
      throw new UserError(`state directory ${stateDir} is in use by ${describeHolder(stateDir)}`, {
        code: 'state-locked',
        hint: 'Only one releaser may work a journal. Stop the other one, or give this one its own --state directory.',
      })
    }
    const holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
    writeFileSync(join(stateDir, HOLDER_FILE), `${JSON.stringify(holder)}\n`)
    return new StateLock(db, holder)
  }

  release(): void {
    if (this.db.isOpen) this.db.close()
  }
}

function describeHolder(stateDir: string): string {
  try {
    const holder = JSON.parse(readFileSync(join(stateDir, HOLDER_FILE), 'utf8')) as LockHolder
    return `another releaser (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
  } catch {
    return 'another releaser'
  }
}

/**
 * SQLite's answers that mean the journal's storage, not the request, is the problem; and PostgreSQL's: the server
 * unreachable or gone (connection errors, SQLSTATE class 08, 57P0x shutdown), out of disk (53100) or read-only (25006).
 */
const STORAGE_ERRORS =
  /SQLITE_(FULL|IOERR|CORRUPT|NOTADB|READONLY|CANTOPEN)|disk is full|disk I\/O error|malformed|not a database|readonly database|\b(08\d{3}|08P01|57P0[1-3]|53100|25006|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b|Connection terminated/i

export function isStorageError(error: unknown): boolean {
  const e = error as { code?: unknown; errstr?: unknown; message?: unknown }
  return STORAGE_ERRORS.test(`${String(e?.code ?? '')} ${String(e?.errstr ?? '')} ${String(e?.message ?? '')}`)
}

/**
 * Watches the journal file under the daemon: the file it opened must still be the one at its path (not deleted,
 * not replaced), and the last write must not have failed for lack of space or a broken file. Readiness and every
 * webhook write consult `problem()`; a failed write is cleared by the next one that succeeds.
 */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

function validSqliteHeader(path: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const header = Buffer.alloc(18)
    if (readSync(fd, header, 0, 18, 0) < 18) return false
    const pageSize = header.readUInt16BE(16)
    // 1 stands for 65536; otherwise a power of two from 512.
    const validSize = pageSize === 1 || (pageSize >= 512 && (pageSize & (pageSize - 1)) === 0)
    return header.subarray(0, 16).equals(SQLITE_MAGIC) && validSize
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export class JournalWatch {
  private readonly identity: { dev: number; ino: number } | undefined
  private writeError: string | undefined

  /** `path` undefined: a journal that is no file here (PostgreSQL); only failed writes are watched. */
  constructor(private readonly path: string | undefined) {
    if (path === undefined) return
    const stat = statSync(path)
    this.identity = { dev: stat.dev, ino: stat.ino }
  }

  /** Why writes must not be accepted now, or undefined when the journal is fine. */
  problem(): string | undefined {
    if (this.path === undefined || this.identity === undefined) return this.writeError
    let stat: { dev: number; ino: number }
    try {
      stat = statSync(this.path)
    } catch {
      return `journal ${this.path} has disappeared`
    }
    if (stat.dev !== this.identity.dev || stat.ino !== this.identity.ino) {
      return `journal ${this.path} was replaced by another file`
    }
    // SQLite keeps pages it has read in memory, so damage to the file can go unseen until a page is read again:
    // the header (magic string, page size) is checked on every look; damage further in fails the query that
    // reads it, which counts as a failed write.
    if (!validSqliteHeader(this.path)) return `journal ${this.path} is corrupt (not an SQLite database header)`
    return this.writeError
  }

  /** The journal file itself is gone or replaced: no write can be trusted until a restart. */
  get lost(): boolean {
    const problem = this.problem()
    return problem !== undefined && problem !== this.writeError
  }

  writeFailed(error: unknown): void {
    this.writeError = `journal write failed: ${(error as Error).message}`
  }

  writeSucceeded(): void {
    this.writeError = undefined
  }

  get failing(): boolean {
    return this.writeError !== undefined
  }
}
