import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type {
  AcceptInput,
  AcceptResult,
  HistoryEntry,
  Journal,
  JournalCounts,
  MovedTag,
  NotificationPlanner,
  NotificationRecord,
  NotificationState,
  ReleaseRecord,
  ReleaseState,
  RetagRecord,
  RetagState,
  TagPointer,
} from './types.js'
import { isNewer } from './types.js'

export type Value = string | number | null
export type Row = Record<string, unknown>

/** Statements, inside or outside a transaction. `?` placeholders in both dialects. */
export interface Statements {
  all(sql: string, params?: readonly Value[]): Promise<Row[]>
  get(sql: string, params?: readonly Value[]): Promise<Row | undefined>
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly Value[]): Promise<number>
}

/** What a store gives the journal: the only code that differs between SQLite and PostgreSQL. */
export interface Database extends Statements {
  readonly location: string
  /** The SQLite file, or undefined. */
  readonly file: string | undefined
  readonly isOpen: boolean
  /** After a prune, inside its transaction: hand freed space back (SQLite incremental vacuum; PostgreSQL's autovacuum does it). */
  reclaim(tx: Statements): Promise<void>
  /** `durable`: on disk before it resolves (SQLite: synchronous=FULL for this commit; PostgreSQL commits are). */
  transaction<T>(fn: (tx: Statements) => Promise<T>, options?: { durable?: boolean }): Promise<T>
  /**
   * Inside a claim transaction, before steps of `keys` are claimed: the keys this transaction may take. PostgreSQL
   * takes a transaction-scoped advisory lock on each (skipping those another replica holds now), so two replicas
   * never claim one repository at once.
   */
  lockKeys(tx: Statements, keys: readonly string[]): Promise<string[]>
  /** ` FOR UPDATE` where rows can be locked (PostgreSQL); SQLite's write transactions already exclude each other. */
  readonly forUpdate: string
  /** ` FOR UPDATE OF s SKIP LOCKED` for a step row being claimed (PostgreSQL). */
  readonly skipLocked: string
  /**
   * One process works an SQLite journal (the state lock), so a claim by another owner is a dead process's and is
   * free at once; with PostgreSQL it is another replica's until it expires.
   */
  readonly singleWorker: boolean
  close(): Promise<void>
}

export interface StoreOptions {
  /** Run when a release's retags all become final, in the same transaction: a moved tag's notice is never lost. */
  readonly planner?: NotificationPlanner | undefined
  /** How long a claim holds without renewal (a killed replica's steps wait this long). */
  readonly claimTtlMs?: number
  /**
   * A name unique to this replica that survives its restarts (the pod name): the claims a previous run of the same
   * replica left behind are free at once for the next run, instead of after claimTtlMs. Two live processes must
   * never share it.
   */
  readonly replicaId?: string | undefined
}

export const DEFAULT_CLAIM_TTL_MS = 30_000
const NO_LIMIT = 1e15

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}

function retagFromRow(row: Row): RetagRecord {
  return {
    id: Number(row.id),
    release: String(row.release_id),
    component: String(row.component),
    source: String(row.source),
    registry: String(row.registry),
    repository: String(row.repository),
    tag: String(row.tag),
    target: String(row.target),
    digest: String(row.digest),
    state: String(row.state) as RetagState,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_at),
    lastError: text(row.last_error),
    updatedAt: Number(row.updated_at),
    snapshot: String(row.snapshot),
    createdAt: String(row.release_created_at),
    receivedAt: Number(row.received_at),
  }
}

function notificationFromRow(row: Row): NotificationRecord {
  return {
    id: Number(row.id),
    release: String(row.release_id),
    repository: String(row.repository),
    via: String(row.via),
    payload: String(row.payload),
    state: String(row.state) as NotificationState,
    attempts: Number(row.attempts),
    nextAt: Number(row.next_at),
    lastError: text(row.last_error),
    createdAt: Number(row.created_at),
    receivedAt: Number(row.received_at),
  }
}

const STEP_WITH_RELEASE = `SELECT s.*, r.snapshot, r.created_at AS release_created_at, r.received_at
  FROM steps s JOIN releases r ON r.id = s.release_id`

/**
 * The journal over either store. Every write that belongs together is one transaction; a step is only worked on
 * under a claim (owner, expiry) on its serialisation key, and its outcome is written only while the claim is
 * still this journal's (a replica that lost its claim cannot overwrite the one that took it over).
 */
export class StepJournal implements Journal {
  /** This journal's claims are recorded under this name (host, pid, random: unique per open). */
  readonly owner: string
  private readonly replicaPrefix: string | undefined
  private readonly planner: NotificationPlanner | undefined
  private readonly claimTtlMs: number
  private closed = false
  private readonly claiming = new Set<Promise<unknown>>()

  constructor(
    private readonly db: Database,
    options: StoreOptions = {},
  ) {
    this.planner = options.planner
    this.claimTtlMs = options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS
    const run = randomUUID().slice(0, 8)
    this.replicaPrefix = options.replicaId ? `${options.replicaId}/` : undefined
    this.owner = this.replicaPrefix ? `${this.replicaPrefix}${run}` : `${hostname()}-${process.pid}-${run}`
  }

  get location(): string {
    return this.db.location
  }

  get file(): string | undefined {
    return this.db.file
  }

  get isOpen(): boolean {
    return !this.closed && this.db.isOpen
  }

  /** Closing gives back this journal's unfinished claims: nobody waits for them to expire. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // A claim committing after the release below would hold its steps until it expired.
    await Promise.allSettled([...this.claiming])
    await this.releaseClaims().catch(() => {})
    await this.db.close()
  }

  // ---- intake ----

  async accept(input: AcceptInput, now = Date.now()): Promise<AcceptResult> {
    return (await this.acceptMany([input], now))[0]!
  }

  /**
   * Several accepts in one durable commit: one fsync for a burst of webhook requests. `cursor` (a watch's
   * resourceVersion) is saved in the same commit, so a restart resumes exactly after what was stored. The same
   * Snapshot (namespace/name) accepted twice, here or on another replica, is one release.
   */
  acceptMany(
    inputs: readonly AcceptInput[],
    now = Date.now(),
    cursor?: { name: string; value: string | undefined },
  ): Promise<AcceptResult[]> {
    return this.db.transaction(
      async (tx) => {
        const results: AcceptResult[] = []
        for (const input of inputs) results.push(await this.insertRelease(tx, input, now))
        if (cursor) await this.writeCursor(tx, cursor.name, cursor.value)
        return results
      },
      { durable: true },
    )
  }

  private async insertRelease(tx: Statements, input: AcceptInput, now: number): Promise<AcceptResult> {
    const key = `${input.namespace ?? ''}/${input.snapshot}`
    const id = randomUUID()
    const inserted = await tx.get(
      `INSERT INTO releases (id, snapshot_key, snapshot, namespace, application, created_at, body, source, state, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (snapshot_key) DO NOTHING RETURNING id`,
      [
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
      ],
    )
    if (!inserted) {
      const existing = await tx.get('SELECT id FROM releases WHERE snapshot_key = ?', [key])
      return { id: String(existing?.id), duplicate: true }
    }
    // A release's retag steps in as few statements as bound parameters allow (500 rows of 12): one round trip to
    // PostgreSQL for any Snapshot of realistic size.
    for (let from = 0; from < input.retags.length; from += 500) {
      const chunk = input.retags.slice(from, from + 500)
      await tx.run(
        `INSERT INTO steps (release_id, kind, key, state, next_at, created_at, updated_at,
                            repository, component, source, registry, tag, target, digest)
         VALUES ${chunk.map(() => "(?, 'retag', ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(', ')}`,
        chunk.flatMap((retag) => [
          id,
          retag.repository,
          now,
          now,
          now,
          retag.repository,
          retag.component,
          retag.source,
          retag.registry,
          retag.tag,
          `${retag.repository}:${retag.tag}`,
          retag.digest,
        ]),
      )
    }
    return { id, duplicate: false }
  }

  async cursor(name: string): Promise<string | undefined> {
    const row = await this.db.get('SELECT value FROM cursors WHERE name = ?', [name])
    return row ? String(row.value) : undefined
  }

  private async writeCursor(tx: Statements, name: string, value: string | undefined): Promise<void> {
    if (value === undefined) await tx.run('DELETE FROM cursors WHERE name = ?', [name])
    else {
      await tx.run(
        'INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        [name, value],
      )
    }
  }

  /** Save a cursor alone (a bookmark, a relist): a lost one only means a relist. */
  async saveCursor(name: string, value: string | undefined): Promise<void> {
    await this.writeCursor(this.db, name, value)
  }

  // ---- the step queue ----

  /** SQL (and its parameters) for "a live claim holds this step's key", `c` being the other step. */
  private liveClaim(now: number): { sql: string; params: Value[] } {
    if (this.db.singleWorker) return { sql: 'c.claim_until > ? AND c.claimed_by = ?', params: [now, this.owner] }
    if (!this.replicaPrefix) return { sql: 'c.claim_until > ?', params: [now] }
    // A claim of an earlier run of this same replica (killed, restarted) is not live.
    return {
      sql: 'c.claim_until > ? AND (c.claimed_by = ? OR substr(c.claimed_by, 1, ?) <> ?)',
      params: [now, this.owner, this.replicaPrefix.length, this.replicaPrefix],
    }
  }

  /**
   * Claim due steps of one kind, first come first served (new steps are due when accepted, retries when their
   * backoff ends), one per serialisation key. For a retag the newest Snapshot's step of its tag is taken: the
   * older ones are settled as superseded when it runs.
   */
  private claim(kind: 'retag' | 'notify', limit: number, now: number): Promise<Row[]> {
    if (limit <= 0 || this.closed) return Promise.resolve([])
    const live = this.liveClaim(now)
    const claimed = this.claimIn(kind, limit, now, live)
    this.claiming.add(claimed)
    void claimed.catch(() => {}).finally(() => this.claiming.delete(claimed))
    return claimed
  }

  private claimIn(
    kind: 'retag' | 'notify',
    limit: number,
    now: number,
    live: { sql: string; params: Value[] },
  ): Promise<Row[]> {
    return this.db.transaction(async (tx) => {
      const keys = await this.dueKeys(tx, kind, limit, now, live)
      // One round trip for the keys' locks, one per key to pick its step, one to record the claims: a claim costs
      // a few milliseconds on PostgreSQL whatever the number of keys (it runs after every settled step).
      const locked = await this.db.lockKeys(
        tx,
        keys.map((due) => due.key),
      )
      const targets = new Map(keys.map((due) => [due.key, due.target]))
      const claimed: Row[] = []
      for (const key of locked) {
        // Under the key's lock, with a fresh look: a claim another replica committed meanwhile is seen here.
        const free = `NOT EXISTS (SELECT 1 FROM steps c WHERE c.key = ? AND c.state = 'pending' AND ${live.sql})`
        // A retag: of the tag whose step is due first on this key, the newest Snapshot's step (the older ones are
        // superseded when it runs).
        const step =
          kind === 'retag'
            ? await tx.get(
                `${STEP_WITH_RELEASE}
                 WHERE s.target = ? AND s.state = 'pending' AND s.next_at <= ? AND ${free}
                 ORDER BY r.created_at DESC, r.snapshot DESC, s.id LIMIT 1${this.db.skipLocked}`,
                [targets.get(key) ?? null, now, key, ...live.params],
              )
            : await tx.get(
                `${STEP_WITH_RELEASE}
                 WHERE s.key = ? AND s.kind = 'notify' AND s.state = 'pending' AND s.next_at <= ? AND ${free}
                 ORDER BY s.next_at, s.id LIMIT 1${this.db.skipLocked}`,
                [key, now, key, ...live.params],
              )
        if (step) claimed.push(step)
      }
      if (claimed.length > 0) {
        await tx.run(
          `UPDATE steps SET claimed_by = ?, claim_until = ? WHERE id IN (${claimed.map(() => '?').join(', ')})`,
          [this.owner, now + this.claimTtlMs, ...claimed.map((step) => Number(step.id))],
        )
      }
      return claimed
    })
  }

  /**
   * Up to `limit` serialisation keys with due steps and no live claim, in the order their first due step became
   * due, each with that step's target. Walks the due index (kind, state, next_at, id) in batches and stops as soon
   * as it has `limit` keys, so a claim reads about `limit` rows plus the steps already claimed, not every pending
   * step (grouping all pending steps by key made each claim of a 10,000-step Snapshot read all of them). A key with
   * many waiting steps under a live claim is walked past (its steps are read, then skipped): still no worse than
   * the grouping was.
   */
  private async dueKeys(
    tx: Statements,
    kind: 'retag' | 'notify',
    limit: number,
    now: number,
    live: { sql: string; params: Value[] },
  ): Promise<Array<{ key: string; target: string | null }>> {
    const batch = Math.max(64, limit * 2)
    const walk = (after: string, params: Value[], n: number) =>
      tx.all(
        `SELECT s.key, s.target, s.next_at, s.id FROM steps s
         WHERE s.kind = ? AND s.state = 'pending' AND s.next_at <= ? AND ${after}
           AND NOT EXISTS (SELECT 1 FROM steps c WHERE c.key = s.key AND c.state = 'pending' AND ${live.sql})
         ORDER BY s.next_at, s.id LIMIT ?`,
        [kind, now, ...params, ...live.params, n],
      )
    const keys = new Map<string, string | null>()
    // Resume after (next_at, id) as "the same next_at, a later id" then "a later next_at": SQLite bounds an index
    // range by the first column of a row value only, and a whole Snapshot's steps share one next_at.
    let at = -1
    let id: number | undefined
    for (;;) {
      const rows = id === undefined ? [] : await walk('s.next_at = ? AND s.id > ?', [at, id], batch)
      if (rows.length < batch) rows.push(...(await walk('s.next_at > ?', [at], batch - rows.length)))
      for (const row of rows) {
        const key = String(row.key)
        if (!keys.has(key)) keys.set(key, text(row.target))
        if (keys.size >= limit) break
      }
      if (keys.size >= limit || rows.length < batch) break
      const last = rows[rows.length - 1]!
      at = Number(last.next_at)
      id = Number(last.id)
    }
    return [...keys].map(([key, target]) => ({ key, target }))
  }

  async claimRetags(limit: number, now = Date.now()): Promise<RetagRecord[]> {
    return (await this.claim('retag', limit, now)).map(retagFromRow)
  }

  async claimNotifications(limit: number, now = Date.now()): Promise<NotificationRecord[]> {
    return (await this.claim('notify', limit, now)).map(notificationFromRow)
  }

  async renewClaims(now = Date.now()): Promise<void> {
    await this.db.run(
      `UPDATE steps SET claim_until = ? WHERE claimed_by = ? AND state = 'pending' AND claim_until > ?`,
      [now + this.claimTtlMs, this.owner, now],
    )
  }

  async releaseClaims(): Promise<void> {
    await this.db.run(`UPDATE steps SET claimed_by = NULL, claim_until = 0 WHERE claimed_by = ?`, [this.owner])
  }

  async tagPointer(target: string, tx: Statements = this.db): Promise<TagPointer | undefined> {
    const row = await tx.get('SELECT target, digest, snapshot, created_at FROM tags WHERE target = ?', [target])
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
   * Called under the claim of the tag's key, so no other retag of the tag is in flight on any replica.
   */
  supersededBy(retag: RetagRecord, now = Date.now()): Promise<string | undefined> {
    return this.db.transaction(async (tx) => {
      const pointer = await this.tagPointer(retag.target, tx)
      if (pointer && pointer.snapshot !== retag.snapshot && isNewer(pointer, retag)) {
        await this.settle(tx, retag, 'superseded', `tag already points at newer Snapshot ${pointer.snapshot}`, now)
        return pointer.snapshot
      }
      const newer = await tx.get(
        `SELECT r.snapshot FROM steps s JOIN releases r ON r.id = s.release_id
         WHERE s.target = ? AND s.state = 'pending' AND s.id <> ?
           AND (r.created_at > ? OR (r.created_at = ? AND r.snapshot > ?))
         ORDER BY r.created_at DESC, r.snapshot DESC LIMIT 1`,
        [retag.target, retag.id, retag.createdAt, retag.createdAt, retag.snapshot],
      )
      if (newer) {
        await this.settle(
          tx,
          retag,
          'superseded',
          `newer Snapshot ${String(newer.snapshot)} is waiting for this tag`,
          now,
        )
        return String(newer.snapshot)
      }
      const older = await tx.all(
        `SELECT s.id, s.release_id FROM steps s JOIN releases r ON r.id = s.release_id
         WHERE s.target = ? AND s.state = 'pending' AND s.id <> ?
           AND (r.created_at < ? OR (r.created_at = ? AND r.snapshot < ?))
         ORDER BY s.release_id`,
        [retag.target, retag.id, retag.createdAt, retag.createdAt, retag.snapshot],
      )
      for (const row of older) {
        await this.settle(
          tx,
          { id: Number(row.id), release: String(row.release_id) },
          'superseded',
          `newer Snapshot ${retag.snapshot} moves this tag`,
          now,
          { fenced: false },
        )
      }
      return undefined
    })
  }

  async startAttempt(step: { id: number; attempts: number }, now = Date.now()): Promise<number> {
    await this.db.run('UPDATE steps SET attempts = attempts + 1, updated_at = ? WHERE id = ?', [now, step.id])
    return step.attempts + 1
  }

  /** The retag reached the registry: record the outcome, what the tag now points at, and the audit entry. */
  async succeeded(
    retag: RetagRecord,
    outcome: { action: 'moved' | 'already'; fromDigest: string | null; durationMs: number },
    now = Date.now(),
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      // The release row first: every transaction that settles steps locks it before the steps (no deadlock).
      await tx.get(`SELECT id FROM releases WHERE id = ?${this.db.forUpdate}`, [retag.release])
      await tx.run(
        `INSERT INTO tags (target, digest, snapshot, created_at, release_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET digest = excluded.digest, snapshot = excluded.snapshot,
           created_at = excluded.created_at, release_id = excluded.release_id, updated_at = excluded.updated_at
         WHERE excluded.created_at > tags.created_at
            OR (excluded.created_at = tags.created_at AND excluded.snapshot >= tags.snapshot)`,
        [retag.target, retag.digest, retag.snapshot, retag.createdAt, retag.release, now],
      )
      await tx.run(
        `INSERT INTO history (at, release_id, snapshot, component, repository, tag, from_digest, to_digest, action)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          now,
          retag.release,
          retag.snapshot,
          retag.component,
          retag.repository,
          retag.tag,
          outcome.fromDigest,
          retag.digest,
          outcome.action,
        ],
      )
      await tx.run('INSERT INTO attempts (step_id, at, outcome, duration_ms) VALUES (?, ?, ?, ?)', [
        retag.id,
        now,
        outcome.action,
        outcome.durationMs,
      ])
      await this.settle(tx, retag, outcome.action, null, now, { locked: true })
    })
  }

  async attemptFailed(
    retag: RetagRecord,
    error: string,
    nextAttemptAt: number | undefined,
    durationMs: number,
    now = Date.now(),
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.get(`SELECT id FROM releases WHERE id = ?${this.db.forUpdate}`, [retag.release])
      await tx.run('INSERT INTO attempts (step_id, at, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?)', [
        retag.id,
        now,
        nextAttemptAt === undefined ? 'failed' : 'retry',
        error,
        durationMs,
      ])
      if (nextAttemptAt === undefined) await this.settle(tx, retag, 'failed', error, now, { locked: true })
      else {
        await tx.run(
          `UPDATE steps SET next_at = ?, last_error = ?, updated_at = ?, claimed_by = NULL, claim_until = 0
           WHERE id = ? AND claimed_by = ?`,
          [nextAttemptAt, error, now, retag.id, this.owner],
        )
      }
    })
  }

  async refused(retag: RetagRecord, error: string, durationMs: number, now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.get(`SELECT id FROM releases WHERE id = ?${this.db.forUpdate}`, [retag.release])
      await tx.run('INSERT INTO attempts (step_id, at, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?)', [
        retag.id,
        now,
        'refused',
        error,
        durationMs,
      ])
      await this.settle(tx, retag, 'refused', error, now, { locked: true })
    })
  }

  /**
   * Settle one step (inside a transaction) and, when it was its release's last open retag, the release, whose
   * moved tags then become notify steps in the same transaction. `fenced`: only while this journal holds the claim.
   */
  private async settle(
    tx: Statements,
    step: Pick<RetagRecord, 'id' | 'release'>,
    state: RetagState,
    error: string | null,
    now: number,
    options: { fenced?: boolean; locked?: boolean } = {},
  ): Promise<void> {
    const fenced = options.fenced ?? true
    // The release row first: every transaction that settles steps locks it before the steps (no deadlock).
    if (!options.locked) await tx.get(`SELECT id FROM releases WHERE id = ?${this.db.forUpdate}`, [step.release])
    const changed = await tx.run(
      `UPDATE steps SET state = ?, last_error = ?, updated_at = ?, claimed_by = NULL, claim_until = 0
       WHERE id = ? AND state = 'pending'${fenced ? ' AND claimed_by = ?' : ''}`,
      fenced ? [state, error, now, step.id, this.owner] : [state, error, now, step.id],
    )
    if (changed === 0) return
    // Index probes on steps_release_state (migration 3), never a count over the release's steps: this runs once
    // per settled step, and a count made a release of n steps cost n² row reads.
    const open = await tx.get(
      `SELECT 1 AS open FROM steps WHERE release_id = ? AND kind = 'retag' AND state = 'pending' LIMIT 1`,
      [step.release],
    )
    if (open) return
    const failed = await tx.get(
      `SELECT 1 AS failed FROM steps WHERE release_id = ? AND kind = 'retag' AND state IN ('failed', 'refused') LIMIT 1`,
      [step.release],
    )
    await tx.run('UPDATE releases SET state = ?, finished_at = ? WHERE id = ?', [
      failed ? 'failed' : 'released',
      now,
      step.release,
    ])
    await this.queueNotifications(tx, step.release, now)
  }

  /**
   * Only tags this release MOVED are told (never `already`, `superseded` or `failed` ones). A retried release that
   * moves more tags later updates its repositories' notify steps, which are then sent again with every moved tag.
   */
  private async queueNotifications(tx: Statements, release: string, now: number): Promise<void> {
    if (!this.planner) return
    const moved: MovedTag[] = (
      await tx.all(
        `SELECT s.repository, s.tag, s.digest, s.component, r.snapshot FROM steps s JOIN releases r ON r.id = s.release_id
         WHERE s.release_id = ? AND s.kind = 'retag' AND s.state = 'moved' ORDER BY s.id`,
        [release],
      )
    ).map((row) => ({
      repository: String(row.repository),
      tag: String(row.tag),
      digest: String(row.digest),
      component: String(row.component),
      snapshot: String(row.snapshot),
    }))
    if (moved.length === 0) return
    for (const draft of this.planner(moved)) {
      await tx.run(
        `INSERT INTO steps (release_id, kind, key, state, next_at, created_at, updated_at, repository, via, payload)
         VALUES (?, 'notify', ?, 'pending', ?, ?, ?, ?, ?, ?)
         ON CONFLICT (release_id, repository) WHERE kind = 'notify' DO UPDATE SET payload = excluded.payload,
           via = excluded.via, state = 'pending', attempts = 0, next_at = excluded.next_at, last_error = NULL,
           updated_at = excluded.updated_at
         WHERE steps.payload <> excluded.payload`,
        [release, `notify ${draft.repository}`, now, now, now, draft.repository, draft.via, draft.payload],
      )
    }
  }

  /**
   * The updater was told (or answered why it cannot be). Guarded by the payload sent: when a retry of the release
   * changed the notification meanwhile, it stays pending and is sent again.
   */
  async notificationSent(
    notification: NotificationRecord,
    outcome: { status: string; message: string },
    now = Date.now(),
  ): Promise<void> {
    await this.db.run(
      `UPDATE steps SET state = 'sent', outcome = ?, message = ?, last_error = NULL, sent_at = ?, updated_at = ?,
         claimed_by = NULL, claim_until = 0
       WHERE id = ? AND payload = ? AND claimed_by = ?`,
      [outcome.status, outcome.message, now, now, notification.id, notification.payload, this.owner],
    )
    await this.unclaim(notification.id)
  }

  async notificationFailed(
    notification: NotificationRecord,
    error: string,
    nextAt: number | undefined,
    now = Date.now(),
  ): Promise<void> {
    await this.db.run(
      `UPDATE steps SET state = ?, next_at = ?, last_error = ?, updated_at = ?, claimed_by = NULL, claim_until = 0
       WHERE id = ? AND payload = ? AND claimed_by = ?`,
      [
        nextAt === undefined ? 'failed' : 'pending',
        nextAt ?? notification.nextAt,
        error,
        now,
        notification.id,
        notification.payload,
        this.owner,
      ],
    )
    await this.unclaim(notification.id)
  }

  /** A step whose guarded update did not apply (changed meanwhile) is given back, not held until expiry. */
  private async unclaim(id: number): Promise<void> {
    await this.db.run('UPDATE steps SET claimed_by = NULL, claim_until = 0 WHERE id = ? AND claimed_by = ?', [
      id,
      this.owner,
    ])
  }

  /** Put a release's failed steps back in the queue with a fresh attempt budget. Returns how many, or -1. */
  retry(id: string, now = Date.now()): Promise<number> {
    return this.db.transaction(
      async (tx) => {
        const release = await tx.get(`SELECT id FROM releases WHERE id = ?${this.db.forUpdate}`, [id])
        if (!release) return -1
        const retags = await tx.run(
          `UPDATE steps SET state = 'pending', attempts = 0, next_at = ?, updated_at = ?
           WHERE release_id = ? AND kind = 'retag' AND state IN ('failed', 'refused')`,
          [now, now, id],
        )
        if (retags > 0) await tx.run(`UPDATE releases SET state = 'pending', finished_at = NULL WHERE id = ?`, [id])
        // A notification that gave up is retried with the release: the tags it names did move.
        const notifications = await tx.run(
          `UPDATE steps SET state = 'pending', attempts = 0, next_at = ?, updated_at = ?
           WHERE release_id = ? AND kind = 'notify' AND state = 'failed'`,
          [now, now, id],
        )
        return retags + notifications
      },
      { durable: true },
    )
  }

  /**
   * Small batches in short transactions, so the daemon prunes while it works; freed pages are reused (and handed
   * back incrementally on SQLite journals created with auto_vacuum), no VACUUM.
   */
  prune(before: number, limit = 500): Promise<number> {
    return this.db.transaction(async (tx) => {
      const ids = (
        await tx.all(
          `SELECT id FROM releases r WHERE r.state <> 'pending' AND r.finished_at < ?
             AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.release_id = r.id AND s.kind IN ('retag', 'notify')
                             AND s.state = 'pending')
           ORDER BY r.finished_at LIMIT ?`,
          [before, limit],
        )
      ).map((row) => String(row.id))
      for (const id of ids) {
        await tx.run('DELETE FROM attempts WHERE step_id IN (SELECT id FROM steps WHERE release_id = ?)', [id])
        await tx.run('DELETE FROM steps WHERE release_id = ?', [id])
        await tx.run('DELETE FROM history WHERE release_id = ?', [id])
        await tx.run('DELETE FROM releases WHERE id = ?', [id])
      }
      if (ids.length > 0) await this.db.reclaim(tx)
      return ids.length
    })
  }

  async probeWrite(now = Date.now()): Promise<void> {
    await this.saveCursor('readiness-probe', String(now))
  }

  // ---- read views ----

  async failedReleaseIds(): Promise<string[]> {
    return (
      await this.db.all(
        `SELECT id FROM releases WHERE state = 'failed'
           OR id IN (SELECT release_id FROM steps WHERE kind = 'notify' AND state = 'failed') ORDER BY received_at`,
      )
    ).map((row) => String(row.id))
  }

  async release(id: string): Promise<ReleaseRecord | undefined> {
    // Named columns, never the stored body (the whole Snapshot: 2.5 MB for 10,000 components, read and decoded on
    // every poll of GET /v1/releases/ID) nor a step's payload.
    const release = await this.db.get(
      `SELECT id, snapshot, namespace, application, created_at, state, received_at, finished_at FROM releases
       WHERE id = ?`,
      [id],
    )
    if (!release) return undefined
    const steps = await this.db.all(
      `SELECT kind, component, target, digest, state, attempts, last_error, repository, via, outcome, message, sent_at
       FROM steps WHERE release_id = ? ORDER BY id`,
      [id],
    )
    const at = (value: unknown) =>
      value === null || value === undefined ? null : new Date(Number(value)).toISOString()
    return {
      id: String(release.id),
      snapshot: String(release.snapshot),
      namespace: text(release.namespace),
      application: String(release.application),
      createdAt: String(release.created_at),
      state: String(release.state) as ReleaseState,
      receivedAt: new Date(Number(release.received_at)).toISOString(),
      finishedAt: at(release.finished_at),
      retags: steps
        .filter((row) => row.kind === 'retag')
        .map((row) => ({
          component: String(row.component),
          target: String(row.target),
          digest: String(row.digest),
          state: String(row.state) as RetagState,
          attempts: Number(row.attempts),
          lastError: text(row.last_error),
        })),
      notifications: steps
        .filter((row) => row.kind === 'notify')
        .map((row) => ({
          repository: String(row.repository),
          via: String(row.via),
          state: String(row.state) as NotificationState,
          attempts: Number(row.attempts),
          lastError: text(row.last_error),
          outcome: text(row.outcome),
          message: text(row.message),
          sentAt: at(row.sent_at),
        })),
    }
  }

  async history(filter: { component?: string; tag?: string; limit?: number } = {}): Promise<HistoryEntry[]> {
    const where: string[] = []
    const params: Value[] = []
    if (filter.component !== undefined) {
      where.push('component = ?')
      params.push(filter.component)
    }
    if (filter.tag !== undefined) {
      where.push('tag = ?')
      params.push(filter.tag)
    }
    params.push(filter.limit ?? NO_LIMIT)
    const rows = await this.db.all(
      `SELECT * FROM history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      params,
    )
    return rows.map((row) => ({
      at: new Date(Number(row.at)).toISOString(),
      releaseId: String(row.release_id),
      snapshot: String(row.snapshot),
      component: String(row.component),
      repository: String(row.repository),
      tag: String(row.tag),
      fromDigest: text(row.from_digest),
      toDigest: String(row.to_digest),
      action: String(row.action) as 'moved' | 'already',
    }))
  }

  async counts(): Promise<JournalCounts> {
    const events: Record<ReleaseState, number> = { pending: 0, released: 0, failed: 0 }
    for (const row of await this.db.all('SELECT state, COUNT(*) AS n FROM releases GROUP BY state')) {
      events[String(row.state) as ReleaseState] = Number(row.n)
    }
    const retags: Record<RetagState, number> = {
      pending: 0,
      moved: 0,
      already: 0,
      superseded: 0,
      failed: 0,
      refused: 0,
    }
    for (const row of await this.db.all(`SELECT state, COUNT(*) AS n FROM steps WHERE kind = 'retag' GROUP BY state`)) {
      retags[String(row.state) as RetagState] = Number(row.n)
    }
    return { events, retags }
  }

  async notificationCounts(): Promise<Record<NotificationState, number>> {
    const counts: Record<NotificationState, number> = { pending: 0, sent: 0, failed: 0 }
    for (const row of await this.db.all(
      `SELECT state, COUNT(*) AS n FROM steps WHERE kind = 'notify' GROUP BY state`,
    )) {
      counts[String(row.state) as NotificationState] = Number(row.n)
    }
    return counts
  }

  async pendingCount(): Promise<number> {
    const row = await this.db.get(`SELECT COUNT(*) AS n FROM steps WHERE kind = 'retag' AND state = 'pending'`)
    return Number(row?.n ?? 0)
  }

  async registries(): Promise<string[]> {
    return (await this.db.all(`SELECT DISTINCT registry FROM steps WHERE kind = 'retag' LIMIT 16`)).map((row) =>
      String(row.registry),
    )
  }
}
