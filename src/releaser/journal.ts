import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { UserError } from '../cli/errors.js'

/**
 * The releaser's journal: one SQLite file in WAL mode under --state DIR. Every accepted Snapshot, every planned
 * retag, every attempt and outcome, and what each tag points at.
 *
 * Durability is chosen per write. Accepting Snapshots commits with `synchronous=FULL` (the WAL is fsynced before
 * the webhook answers 202), batched so one fsync covers every request that arrived meanwhile. Worker bookkeeping
 * commits with `synchronous=NORMAL`: it survives a killed process (the WAL is in the OS cache); a power loss can
 * only roll it back to an earlier state the releaser already passed through, from which it redoes idempotent work
 * (a HEAD shows the tag in place) and the newest-wins checks still hold, because every accepted Snapshot is there.
 */

export type EventState = 'pending' | 'released' | 'failed'
/** `refused`: the digest is not signed by a configured key (src/verify); nothing was written, `releaser retry` checks again. */
export type RetagState = 'pending' | 'moved' | 'already' | 'superseded' | 'failed' | 'refused'
export const FINAL_RETAG_STATES: readonly RetagState[] = ['moved', 'already', 'superseded', 'failed', 'refused']

export interface PlannedRetag {
  readonly component: string
  /** `registry/path@sha256:…`: the image the Snapshot tested. */
  readonly source: string
  readonly registry: string
  /** `registry/path` of the tag to move. */
  readonly repository: string
  readonly tag: string
  readonly digest: string
}

export interface AcceptInput {
  readonly snapshot: string
  readonly namespace: string | undefined
  readonly application: string
  /** Snapshot creation time (ISO 8601, UTC); orders Snapshots per tag, then `snapshot` name. */
  readonly createdAt: string
  readonly body: string
  readonly source: string
  readonly retags: readonly PlannedRetag[]
}

export interface AcceptResult {
  readonly id: string
  readonly duplicate: boolean
}

export interface RetagRecord {
  readonly id: number
  readonly eventId: string
  readonly component: string
  readonly source: string
  readonly registry: string
  readonly repository: string
  readonly tag: string
  readonly target: string
  readonly digest: string
  readonly state: RetagState
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly updatedAt: number
  readonly snapshot: string
  readonly createdAt: string
  /** When the webhook accepted the event (ms since epoch): the start of event→tag latency. */
  readonly receivedAt: number
}

export interface ReleaseRecord {
  readonly id: string
  readonly snapshot: string
  readonly namespace: string | null
  readonly application: string
  readonly createdAt: string
  readonly state: EventState
  readonly receivedAt: string
  readonly finishedAt: string | null
  readonly retags: readonly {
    component: string
    target: string
    digest: string
    state: RetagState
    attempts: number
    lastError: string | null
  }[]
  readonly notifications: readonly NotificationView[]
}

export type NotificationState = 'pending' | 'sent' | 'failed'

/** A tag an event's release moved, as notify's planner takes it (structurally notify's MovedImage). */
export interface MovedTag {
  readonly repository: string
  readonly tag: string
  readonly digest: string
  readonly snapshot: string
  readonly component: string
}

/** One notification to store: a repository, how to tell it, and the plan to send (JSON, opaque to the journal). */
export interface NotificationDraft {
  readonly repository: string
  readonly via: string
  readonly payload: string
}

/** Turns an event's moved tags into notifications (coalesced per repository); set by the daemon when --notify. */
export type NotificationPlanner = (moved: readonly MovedTag[]) => NotificationDraft[]

export interface NotificationRecord {
  readonly id: number
  readonly eventId: string
  readonly repository: string
  readonly via: string
  readonly payload: string
  readonly state: NotificationState
  readonly attempts: number
  readonly nextAt: number
  readonly lastError: string | null
  /** When the event's retags became final (ms): notification latency starts at the event's receivedAt. */
  readonly createdAt: number
  readonly receivedAt: number
}

/** A notification as GET /v1/releases/ID shows it. */
export interface NotificationView {
  readonly repository: string
  readonly via: string
  readonly state: NotificationState
  readonly attempts: number
  readonly lastError: string | null
  /** notify's answer (dispatched, ticked, already-ticked, no-dashboard, …) once sent. */
  readonly outcome: string | null
  readonly message: string | null
  readonly sentAt: string | null
}

export interface HistoryEntry {
  readonly at: string
  readonly releaseId: string
  readonly snapshot: string
  readonly component: string
  readonly repository: string
  readonly tag: string
  readonly fromDigest: string | null
  readonly toDigest: string
  readonly action: 'moved' | 'already'
}

export interface TagPointer {
  readonly target: string
  readonly digest: string
  readonly snapshot: string
  readonly createdAt: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  snapshot_key TEXT NOT NULL UNIQUE,
  snapshot TEXT NOT NULL,
  namespace TEXT,
  application TEXT NOT NULL,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS retags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES events(id),
  component TEXT NOT NULL,
  source TEXT NOT NULL,
  registry TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  target TEXT NOT NULL,
  digest TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retags_due ON retags(state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS retags_event ON retags(event_id);
CREATE INDEX IF NOT EXISTS retags_pending_target ON retags(state, target, next_attempt_at);
CREATE TABLE IF NOT EXISTS tags (
  target TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  created_at TEXT NOT NULL,
  event_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  retag_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms REAL
);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  component TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  from_digest TEXT,
  to_digest TEXT NOT NULL,
  action TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES events(id),
  repository TEXT NOT NULL,
  via TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  outcome TEXT,
  message TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (event_id, repository)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_at, id);
CREATE INDEX IF NOT EXISTS history_component ON history(component);
CREATE INDEX IF NOT EXISTS history_tag ON history(tag);
CREATE INDEX IF NOT EXISTS events_finished ON events(finished_at);
CREATE INDEX IF NOT EXISTS attempts_retag ON attempts(retag_id);
CREATE INDEX IF NOT EXISTS history_event ON history(event_id);
`

export const JOURNAL_FILE = 'releaser.db'

/** Is Snapshot a newer than Snapshot b? Creation time first, then name: the same order on every replica. */
export function isNewer(a: { createdAt: string; snapshot: string }, b: { createdAt: string; snapshot: string }) {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt
  return a.snapshot > b.snapshot
}

type Row = Record<string, SQLInputValue>

function retagFromRow(row: Row): RetagRecord {
  return {
    id: Number(row.id),
    eventId: String(row.event_id),
    component: String(row.component),
    source: String(row.source),
    registry: String(row.registry),
    repository: String(row.repository),
    tag: String(row.tag),
    target: String(row.target),
    digest: String(row.digest),
    state: String(row.state) as RetagState,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error === null ? null : String(row.last_error),
    updatedAt: Number(row.updated_at),
    snapshot: String(row.snapshot),
    createdAt: String(row.created_at),
    receivedAt: Number(row.received_at),
  }
}

export class Journal {
  readonly path: string
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private closed = false
  private notificationPlanner: NotificationPlanner | undefined

  private constructor(path: string, db: DatabaseSync) {
    this.path = path
    this.db = db
  }

  /** Open (creating if needed) the journal under `stateDir`. */
  static open(stateDir: string, options: { create?: boolean } = {}): Journal {
    const path = join(stateDir, JOURNAL_FILE)
    try {
      if (options.create !== false) mkdirSync(stateDir, { recursive: true })
      const db = new DatabaseSync(path, { open: true })
      // busy_timeout first: switching to WAL and creating tables wait for a lock held by the daemon in another process.
      db.exec('PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;')
      // Only takes effect on a new file: pruned pages can then be handed back bit by bit, never with a VACUUM.
      db.exec('PRAGMA auto_vacuum=INCREMENTAL')
      db.exec(SCHEMA)
      return new Journal(path, db)
    } catch (error) {
      throw new UserError(`cannot open the releaser journal ${path}: ${(error as Error).message}`, {
        code: 'journal',
        hint: 'Pass --state DIR pointing at a writable directory (the same one the daemon uses).',
        cause: error,
      })
    }
  }

  /**
   * From now on, when an event's retags all become final, its moved tags are turned into notifications in the
   * same transaction: a crash can never lose the notification of a tag that moved.
   */
  setNotificationPlanner(planner: NotificationPlanner | undefined): void {
    this.notificationPlanner = planner
  }

  get isOpen(): boolean {
    return !this.closed && this.db.isOpen
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      // SQLite rolls back by itself after some errors (a full disk at COMMIT): a second ROLLBACK would throw
      // "no transaction is active" and hide the real error.
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw error
    }
  }

  /**
   * Store an accepted Snapshot and its planned retags, durably (fsync) before returning. The same Snapshot
   * (namespace/name) a second time returns the first id: one Snapshot, one release.
   */
  accept(input: AcceptInput, now = Date.now()): AcceptResult {
    return this.acceptMany([input], now)[0]!
  }

  /**
   * Several accepts in one durable transaction: one fsync for a burst of webhook requests. `cursor` (a watch's
   * resourceVersion) is saved in the same transaction, so a restart resumes exactly after what was stored.
   */
  acceptMany(
    inputs: readonly AcceptInput[],
    now = Date.now(),
    cursor?: { name: string; value: string | undefined },
  ): AcceptResult[] {
    this.db.exec('PRAGMA synchronous=FULL')
    try {
      return this.transaction(() => {
        const results = inputs.map((input) => this.insertEvent(input, now))
        if (cursor) this.writeCursor(cursor.name, cursor.value)
        return results
      })
    } finally {
      this.db.exec('PRAGMA synchronous=NORMAL')
    }
  }

  private insertEvent(input: AcceptInput, now: number): AcceptResult {
    const key = `${input.namespace ?? ''}/${input.snapshot}`
    const existing = this.stmt('SELECT id FROM events WHERE snapshot_key = ?').get(key)
    if (existing) return { id: String(existing.id), duplicate: true }
    const id = randomUUID()
    this.stmt(
      `INSERT INTO events (id, snapshot_key, snapshot, namespace, application, created_at, body, source, state, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      key,
      input.snapshot,
      input.namespace ?? null,
      input.application,
      input.createdAt,
      input.body,
      input.source,
      input.retags.length === 0 ? 'released' : 'pending',
      now,
    )
    const insert = this.stmt(
      `INSERT INTO retags (event_id, component, source, registry, repository, tag, target, digest, state, next_attempt_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    )
    for (const retag of input.retags) {
      insert.run(
        id,
        retag.component,
        retag.source,
        retag.registry,
        retag.repository,
        retag.tag,
        `${retag.repository}:${retag.tag}`,
        retag.digest,
        now,
        now,
      )
    }
    return { id, duplicate: false }
  }

  cursor(name: string): string | undefined {
    const row = this.stmt('SELECT value FROM cursors WHERE name = ?').get(name)
    return row ? String(row.value) : undefined
  }

  private writeCursor(name: string, value: string | undefined): void {
    if (value === undefined) this.stmt('DELETE FROM cursors WHERE name = ?').run(name)
    else {
      this.stmt(
        'INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      ).run(name, value)
    }
  }

  /** Save a cursor alone (a bookmark, a relist): worker durability is enough, a lost one only means a relist. */
  saveCursor(name: string, value: string | undefined): void {
    this.writeCursor(name, value)
  }

  /**
   * Due work, one retag per tag, tags waiting longest first, skipping tags already being worked on. For each tag
   * the newest Snapshot's retag is picked: the older ones are settled as superseded when it is claimed.
   */
  due(now: number, limit: number, busyTargets: ReadonlySet<string>): RetagRecord[] {
    const targets = this.stmt(
      // First come, first served: new retags are due when accepted, retries when their backoff ends.
      `SELECT target, MIN(next_attempt_at) AS due_at, MIN(id) AS first FROM retags
       WHERE state = 'pending' AND next_attempt_at <= ? GROUP BY target ORDER BY due_at, first LIMIT ?`,
    ).all(now, limit + busyTargets.size) as Row[]
    const newest = this.stmt(
      `SELECT r.*, e.snapshot, e.created_at, e.received_at FROM retags r JOIN events e ON e.id = r.event_id
       WHERE r.state = 'pending' AND r.target = ? AND r.next_attempt_at <= ?
       ORDER BY e.created_at DESC, e.snapshot DESC, r.id LIMIT 1`,
    )
    const picked: RetagRecord[] = []
    for (const row of targets) {
      const target = String(row.target)
      if (busyTargets.has(target)) continue
      const retag = newest.get(target, now)
      if (retag) picked.push(retagFromRow(retag as Row))
      if (picked.length >= limit) break
    }
    return picked
  }

  /** The earliest time a pending retag becomes due, or undefined when nothing is pending. */
  nextDueAt(): number | undefined {
    const row = this.stmt(`SELECT MIN(next_attempt_at) AS at FROM retags WHERE state = 'pending'`).get()
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
  }

  /** Registries the journal has retags for: what /readyz checks. */
  registries(): string[] {
    return (this.stmt('SELECT DISTINCT registry FROM retags LIMIT 16').all() as Row[]).map((row) =>
      String(row.registry),
    )
  }

  pendingCount(): number {
    return Number(this.stmt(`SELECT COUNT(*) AS n FROM retags WHERE state = 'pending'`).get()?.n ?? 0)
  }

  tagPointer(target: string): TagPointer | undefined {
    const row = this.stmt('SELECT target, digest, snapshot, created_at FROM tags WHERE target = ?').get(target)
    if (!row) return undefined
    return {
      target: String(row.target),
      digest: String(row.digest),
      snapshot: String(row.snapshot),
      createdAt: String(row.created_at),
    }
  }

  /**
   * Decide, before touching the registry, whether `retag` should still run. It must not when a newer Snapshot
   * already moved this tag, or when a newer Snapshot's retag of the same tag is waiting (that one wins; this one
   * would only move the tag to a digest about to be replaced). When it does run, the older Snapshots' retags of the
   * tag that are still waiting can never matter: they are settled as superseded now, in the same transaction.
   * Call it only while no other retag of the same tag is in flight. Returns the winning Snapshot, or undefined.
   */
  supersededBy(retag: RetagRecord, now = Date.now()): string | undefined {
    return this.transaction(() => {
      const pointer = this.tagPointer(retag.target)
      if (pointer && pointer.snapshot !== retag.snapshot && isNewer(pointer, retag)) {
        this.settle(retag, 'superseded', `tag already points at newer Snapshot ${pointer.snapshot}`, now)
        return pointer.snapshot
      }
      const newer = this.stmt(
        `SELECT e.snapshot, e.created_at FROM retags r JOIN events e ON e.id = r.event_id
         WHERE r.target = ? AND r.state = 'pending' AND r.id <> ?
           AND (e.created_at > ? OR (e.created_at = ? AND e.snapshot > ?))
         ORDER BY e.created_at DESC, e.snapshot DESC LIMIT 1`,
      ).get(retag.target, retag.id, retag.createdAt, retag.createdAt, retag.snapshot)
      if (newer) {
        this.settle(retag, 'superseded', `newer Snapshot ${String(newer.snapshot)} is waiting for this tag`, now)
        return String(newer.snapshot)
      }
      const older = this.stmt(
        `SELECT r.id, r.event_id FROM retags r JOIN events e ON e.id = r.event_id
         WHERE r.target = ? AND r.state = 'pending' AND r.id <> ?
           AND (e.created_at < ? OR (e.created_at = ? AND e.snapshot < ?))`,
      ).all(retag.target, retag.id, retag.createdAt, retag.createdAt, retag.snapshot) as Row[]
      for (const row of older) {
        this.settle(
          { id: Number(row.id), eventId: String(row.event_id) },
          'superseded',
          `newer Snapshot ${retag.snapshot} moves this tag`,
          now,
        )
      }
      return undefined
    })
  }

  /** Record the start of an attempt: a crash-looping retag still reaches its attempt limit. */
  startAttempt(retag: RetagRecord, now = Date.now()): number {
    this.stmt('UPDATE retags SET attempts = attempts + 1, updated_at = ? WHERE id = ?').run(now, retag.id)
    return retag.attempts + 1
  }

  /** The retag reached the registry: record the outcome, what the tag now points at, and the audit entry. */
  succeeded(
    retag: RetagRecord,
    outcome: { action: 'moved' | 'already'; fromDigest: string | null; durationMs: number },
    now = Date.now(),
  ): void {
    this.transaction(() => {
      this.stmt(
        `INSERT INTO tags (target, digest, snapshot, created_at, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(target) DO UPDATE SET digest = excluded.digest, snapshot = excluded.snapshot,
           created_at = excluded.created_at, event_id = excluded.event_id, updated_at = excluded.updated_at
         WHERE excluded.created_at > tags.created_at
            OR (excluded.created_at = tags.created_at AND excluded.snapshot >= tags.snapshot)`,
      ).run(retag.target, retag.digest, retag.snapshot, retag.createdAt, retag.eventId, now)
      this.stmt(
        `INSERT INTO history (at, event_id, snapshot, component, repository, tag, from_digest, to_digest, action)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        now,
        retag.eventId,
        retag.snapshot,
        retag.component,
        retag.repository,
        retag.tag,
        outcome.fromDigest,
        retag.digest,
        outcome.action,
      )
      this.stmt('INSERT INTO attempts (retag_id, at, outcome, duration_ms) VALUES (?, ?, ?, ?)').run(
        retag.id,
        now,
        outcome.action,
        outcome.durationMs,
      )
      this.settle(retag, outcome.action, null, now)
    })
  }

  /** An attempt failed: schedule the next one, or settle as failed when `nextAttemptAt` is undefined. */
  attemptFailed(
    retag: RetagRecord,
    error: string,
    nextAttemptAt: number | undefined,
    durationMs: number,
    now = Date.now(),
  ) {
    this.transaction(() => {
      this.stmt('INSERT INTO attempts (retag_id, at, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?)').run(
        retag.id,
        now,
        nextAttemptAt === undefined ? 'failed' : 'retry',
        error,
        durationMs,
      )
      if (nextAttemptAt === undefined) this.settle(retag, 'failed', error, now)
      else {
        this.stmt('UPDATE retags SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?').run(
          nextAttemptAt,
          error,
          now,
          retag.id,
        )
      }
    })
  }

  /** The verification gate refused the digest: settled as `refused` at once (waiting will not sign it). */
  refused(retag: RetagRecord, error: string, durationMs: number, now = Date.now()) {
    this.transaction(() => {
      this.stmt('INSERT INTO attempts (retag_id, at, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?)').run(
        retag.id,
        now,
        'refused',
        error,
        durationMs,
      )
      this.settle(retag, 'refused', error, now)
    })
  }

  /** Settle one retag (inside a transaction) and, when it was the event's last open one, the event. */
  private settle(
    retag: Pick<RetagRecord, 'id' | 'eventId'>,
    state: RetagState,
    error: string | null,
    now: number,
  ): void {
    this.stmt('UPDATE retags SET state = ?, last_error = ?, updated_at = ? WHERE id = ?').run(
      state,
      error,
      now,
      retag.id,
    )
    const open = this.stmt(
      `SELECT SUM(state = 'pending') AS pending, SUM(state IN ('failed', 'refused')) AS failed FROM retags WHERE event_id = ?`,
    ).get(retag.eventId)
    if (Number(open?.pending ?? 0) === 0) {
      this.stmt('UPDATE events SET state = ?, finished_at = ? WHERE id = ?').run(
        Number(open?.failed ?? 0) > 0 ? 'failed' : 'released',
        now,
        retag.eventId,
      )
      this.queueNotifications(retag.eventId, now)
    }
  }

  /**
   * Only tags this event MOVED are told (never `already`, `superseded` or `failed` ones). A retried release that
   * moves more tags later updates its repositories' notifications, which are then sent again with every moved tag.
   */
  private queueNotifications(eventId: string, now: number): void {
    if (!this.notificationPlanner) return
    const moved = (
      this.stmt(
        `SELECT r.repository, r.tag, r.digest, r.component, e.snapshot FROM retags r JOIN events e ON e.id = r.event_id
         WHERE r.event_id = ? AND r.state = 'moved' ORDER BY r.id`,
      ).all(eventId) as Row[]
    ).map((row) => ({
      repository: String(row.repository),
      tag: String(row.tag),
      digest: String(row.digest),
      component: String(row.component),
      snapshot: String(row.snapshot),
    }))
    if (moved.length === 0) return
    const insert = this.stmt(
      `INSERT INTO notifications (event_id, repository, via, payload, state, next_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)
       ON CONFLICT(event_id, repository) DO UPDATE SET payload = excluded.payload, via = excluded.via,
         state = 'pending', attempts = 0, next_at = excluded.next_at, last_error = NULL, updated_at = excluded.updated_at
       WHERE notifications.payload <> excluded.payload`,
    )
    for (const draft of this.notificationPlanner(moved)) {
      insert.run(eventId, draft.repository, draft.via, draft.payload, now, now, now)
    }
  }

  /** Pending notifications that are due, oldest first, skipping those being sent. */
  dueNotifications(now: number, limit: number, busy: ReadonlySet<number>): NotificationRecord[] {
    const rows = this.stmt(
      `SELECT n.*, e.received_at FROM notifications n JOIN events e ON e.id = n.event_id
       WHERE n.state = 'pending' AND n.next_at <= ? ORDER BY n.next_at, n.id LIMIT ?`,
    ).all(now, limit + busy.size) as Row[]
    return rows
      .filter((row) => !busy.has(Number(row.id)))
      .slice(0, limit)
      .map((row) => ({
        id: Number(row.id),
        eventId: String(row.event_id),
        repository: String(row.repository),
        via: String(row.via),
        payload: String(row.payload),
        state: String(row.state) as NotificationState,
        attempts: Number(row.attempts),
        nextAt: Number(row.next_at),
        lastError: row.last_error === null ? null : String(row.last_error),
        createdAt: Number(row.created_at),
        receivedAt: Number(row.received_at),
      }))
  }

  /** Record the start of a send: a crash-looping notification still reaches its attempt limit. */
  startNotification(notification: NotificationRecord, now = Date.now()): number {
    this.stmt('UPDATE notifications SET attempts = attempts + 1, updated_at = ? WHERE id = ?').run(now, notification.id)
    return notification.attempts + 1
  }

  /**
   * The updater was told (or answered why it cannot be). Guarded by the payload sent: when a retry of the release
   * changed the notification meanwhile, it stays pending and is sent again.
   */
  notificationSent(
    notification: NotificationRecord,
    outcome: { status: string; message: string },
    now = Date.now(),
  ): void {
    this.stmt(
      `UPDATE notifications SET state = 'sent', outcome = ?, message = ?, last_error = NULL, sent_at = ?, updated_at = ?
       WHERE id = ? AND payload = ?`,
    ).run(outcome.status, outcome.message, now, now, notification.id, notification.payload)
  }

  /** A send failed: schedule the next one, or settle as failed when `nextAt` is undefined. */
  notificationFailed(notification: NotificationRecord, error: string, nextAt: number | undefined, now = Date.now()) {
    this.stmt(
      `UPDATE notifications SET state = ?, next_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND payload = ?`,
    ).run(
      nextAt === undefined ? 'failed' : 'pending',
      nextAt ?? notification.nextAt,
      error,
      now,
      notification.id,
      notification.payload,
    )
  }

  nextNotificationDueAt(): number | undefined {
    const row = this.stmt(`SELECT MIN(next_at) AS at FROM notifications WHERE state = 'pending'`).get()
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
  }

  notificationCounts(): Record<NotificationState, number> {
    const counts: Record<NotificationState, number> = { pending: 0, sent: 0, failed: 0 }
    for (const row of this.stmt('SELECT state, COUNT(*) AS n FROM notifications GROUP BY state').all() as Row[]) {
      counts[String(row.state) as NotificationState] = Number(row.n)
    }
    return counts
  }

  /** Put a release's failed retags and notifications back in the queue with a fresh attempt budget. Returns how many. */
  retry(id: string, now = Date.now()): number {
    this.db.exec('PRAGMA synchronous=FULL')
    try {
      return this.retryInTransaction(id, now)
    } finally {
      this.db.exec('PRAGMA synchronous=NORMAL')
    }
  }

  private retryInTransaction(id: string, now: number): number {
    return this.transaction(() => {
      const event = this.stmt('SELECT id FROM events WHERE id = ?').get(id)
      if (!event) return -1
      const changed = this.stmt(
        `UPDATE retags SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
         WHERE event_id = ? AND state IN ('failed', 'refused')`,
      ).run(now, now, id)
      if (Number(changed.changes) > 0) {
        this.stmt(`UPDATE events SET state = 'pending', finished_at = NULL WHERE id = ?`).run(id)
      }
      // A notification that gave up is retried with the release: the tags it names did move.
      const notifications = this.stmt(
        `UPDATE notifications SET state = 'pending', attempts = 0, next_at = ?, updated_at = ?
         WHERE event_id = ? AND state = 'failed'`,
      ).run(now, now, id)
      return Number(changed.changes) + Number(notifications.changes)
    })
  }

  failedReleaseIds(): string[] {
    return (
      this.stmt(
        `SELECT id FROM events WHERE state = 'failed'
           OR id IN (SELECT event_id FROM notifications WHERE state = 'failed') ORDER BY received_at`,
      ).all() as Row[]
    ).map((row) => String(row.id))
  }

  release(id: string): ReleaseRecord | undefined {
    const event = this.stmt('SELECT * FROM events WHERE id = ?').get(id)
    if (!event) return undefined
    const retags = this.stmt('SELECT * FROM retags WHERE event_id = ? ORDER BY id').all(id) as Row[]
    return {
      id: String(event.id),
      snapshot: String(event.snapshot),
      namespace: event.namespace === null ? null : String(event.namespace),
      application: String(event.application),
      createdAt: String(event.created_at),
      state: String(event.state) as EventState,
      receivedAt: new Date(Number(event.received_at)).toISOString(),
      finishedAt: event.finished_at === null ? null : new Date(Number(event.finished_at)).toISOString(),
      retags: retags.map((row) => ({
        component: String(row.component),
        target: String(row.target),
        digest: String(row.digest),
        state: String(row.state) as RetagState,
        attempts: Number(row.attempts),
        lastError: row.last_error === null ? null : String(row.last_error),
      })),
      notifications: (this.stmt('SELECT * FROM notifications WHERE event_id = ? ORDER BY id').all(id) as Row[]).map(
        (row) => ({
          repository: String(row.repository),
          via: String(row.via),
          state: String(row.state) as NotificationState,
          attempts: Number(row.attempts),
          lastError: row.last_error === null ? null : String(row.last_error),
          outcome: row.outcome === null ? null : String(row.outcome),
          message: row.message === null ? null : String(row.message),
          sentAt: row.sent_at === null ? null : new Date(Number(row.sent_at)).toISOString(),
        }),
      ),
    }
  }

  history(filter: { component?: string; tag?: string; limit?: number } = {}): HistoryEntry[] {
    const where: string[] = []
    const params: SQLInputValue[] = []
    if (filter.component !== undefined) {
      where.push('component = ?')
      params.push(filter.component)
    }
    if (filter.tag !== undefined) {
      where.push('tag = ?')
      params.push(filter.tag)
    }
    params.push(filter.limit ?? -1)
    const rows = this.db
      .prepare(
        `SELECT * FROM history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      )
      .all(...params) as Row[]
    return rows.map((row) => ({
      at: new Date(Number(row.at)).toISOString(),
      releaseId: String(row.event_id),
      snapshot: String(row.snapshot),
      component: String(row.component),
      repository: String(row.repository),
      tag: String(row.tag),
      fromDigest: row.from_digest === null ? null : String(row.from_digest),
      toDigest: String(row.to_digest),
      action: String(row.action) as 'moved' | 'already',
    }))
  }

  /**
   * Retention: forget up to `limit` finished releases (released or failed, nothing pending, no notification
   * waiting) that finished before `before`, with their retags, attempts, notifications and audit entries. Small
   * batches in short transactions, so the daemon prunes while it works; freed pages are reused (and handed back
   * incrementally on journals created with auto_vacuum), no VACUUM. What each tag points at (`tags`) is kept: the
   * newest-wins check needs it. Returns how many releases were removed.
   */
  prune(before: number, limit = 500): number {
    return this.transaction(() => {
      const ids = (
        this.stmt(
          `SELECT id FROM events e WHERE e.state <> 'pending' AND e.finished_at < ?
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = e.id AND n.state = 'pending')
           ORDER BY e.finished_at LIMIT ?`,
        ).all(before, limit) as Row[]
      ).map((row) => String(row.id))
      for (const id of ids) {
        this.stmt('DELETE FROM attempts WHERE retag_id IN (SELECT id FROM retags WHERE event_id = ?)').run(id)
        this.stmt('DELETE FROM retags WHERE event_id = ?').run(id)
        this.stmt('DELETE FROM notifications WHERE event_id = ?').run(id)
        this.stmt('DELETE FROM history WHERE event_id = ?').run(id)
        this.stmt('DELETE FROM events WHERE id = ?').run(id)
      }
      if (ids.length > 0) this.db.exec('PRAGMA incremental_vacuum(256)')
      return ids.length
    })
  }

  /** A write that must reach the disk, for readiness: fails when the disk is full or the file broken. */
  probeWrite(now = Date.now()): void {
    this.writeCursor('readiness-probe', String(now))
  }

  /** Counts by state, for /metrics and the shutdown summary. */
  counts(): { events: Record<EventState, number>; retags: Record<RetagState, number> } {
    const events: Record<EventState, number> = { pending: 0, released: 0, failed: 0 }
    for (const row of this.stmt('SELECT state, COUNT(*) AS n FROM events GROUP BY state').all() as Row[]) {
      events[String(row.state) as EventState] = Number(row.n)
    }
    const retags: Record<RetagState, number> = {
      pending: 0,
      moved: 0,
      already: 0,
      superseded: 0,
      failed: 0,
      refused: 0,
    }
    for (const row of this.stmt('SELECT state, COUNT(*) AS n FROM retags GROUP BY state').all() as Row[]) {
      retags[String(row.state) as RetagState] = Number(row.n)
    }
    return { events, retags }
  }
}
