/**
 * The releaser's journal, as the rest of the releaser sees it: intake (accept), one queue of steps (retag, notify)
 * claimed per serialisation key, newest-wins, and read views. Two stores implement it with the same code
 * (store.ts): SQLite under --state DIR (one replica) and PostgreSQL (--database-url, any number of replicas).
 */

/** A release: one accepted Snapshot and the steps that carry it out. */
export type ReleaseState = 'pending' | 'released' | 'failed'
/** `refused`: the digest is not signed by a configured key (src/verify); nothing was written, `releaser retry` checks again. */
export type RetagState = 'pending' | 'moved' | 'already' | 'superseded' | 'failed' | 'refused'
export type NotificationState = 'pending' | 'sent' | 'failed'
export type StepKind = 'retag' | 'notify'
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
  /** The release id (the same Snapshot accepted twice: the first one's). */
  readonly id: string
  readonly duplicate: boolean
}

/** A claimed retag step. */
export interface RetagRecord {
  readonly id: number
  readonly release: string
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
  /** When the release was accepted (ms since epoch): the start of event→tag latency. */
  readonly receivedAt: number
}

/** A claimed notify step. */
export interface NotificationRecord {
  readonly id: number
  readonly release: string
  readonly repository: string
  readonly via: string
  readonly payload: string
  readonly state: NotificationState
  readonly attempts: number
  readonly nextAt: number
  readonly lastError: string | null
  /** When the release's retags became final (ms). */
  readonly createdAt: number
  /** When the release was accepted (ms): notification latency starts here. */
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

export interface ReleaseRecord {
  readonly id: string
  readonly snapshot: string
  readonly namespace: string | null
  readonly application: string
  readonly createdAt: string
  readonly state: ReleaseState
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

/** A tag a release moved, as notify's planner takes it (structurally notify's MovedImage). */
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

/** Turns a release's moved tags into notifications (coalesced per repository); passed at open when --notify. */
export type NotificationPlanner = (moved: readonly MovedTag[]) => NotificationDraft[]

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

export interface JournalCounts {
  readonly events: Record<ReleaseState, number>
  readonly retags: Record<RetagState, number>
}

/** The one interface the releaser (webhook, watch, worker, notification drain, CLI) uses; see store.ts. */
export interface Journal {
  /** Where it is, for logs: the SQLite file, or the PostgreSQL URL without its credentials. */
  readonly location: string
  /** The SQLite file (watched for loss by the daemon); undefined for PostgreSQL. */
  readonly file: string | undefined
  readonly isOpen: boolean
  close(): Promise<void>

  // Intake
  /** Store accepted Snapshots and their retag steps durably before returning (one commit for the batch). */
  acceptMany(
    inputs: readonly AcceptInput[],
    now?: number,
    cursor?: { name: string; value: string | undefined },
  ): Promise<AcceptResult[]>
  accept(input: AcceptInput, now?: number): Promise<AcceptResult>
  cursor(name: string): Promise<string | undefined>
  saveCursor(name: string, value: string | undefined): Promise<void>

  // The step queue
  /**
   * Claim up to `limit` due steps of `kind`, at most one per serialisation key (a target repository) and none
   * whose key another claim holds. The claims last `claimTtlMs` unless renewed; an expired one is free again.
   */
  claimRetags(limit: number, now?: number): Promise<RetagRecord[]>
  claimNotifications(limit: number, now?: number): Promise<NotificationRecord[]>
  /** Extend every claim this journal holds (a live replica keeps its work; a killed one's claims expire). */
  renewClaims(now?: number): Promise<void>
  /** Give back this journal's unfinished claims (shutdown): another replica, or the next start, takes them. */
  releaseClaims(): Promise<void>
  /** Newest-wins before touching the registry: the winning Snapshot when `retag` must not run (it is settled). */
  supersededBy(retag: RetagRecord, now?: number): Promise<string | undefined>
  /** Count an attempt before it starts: a crash-looping step still reaches its attempt limit. */
  startAttempt(step: { id: number; attempts: number }, now?: number): Promise<number>
  succeeded(
    retag: RetagRecord,
    outcome: { action: 'moved' | 'already'; fromDigest: string | null; durationMs: number },
    now?: number,
  ): Promise<void>
  /** An attempt failed: schedule the next one, or settle as failed when `nextAttemptAt` is undefined. */
  attemptFailed(
    retag: RetagRecord,
    error: string,
    nextAttemptAt: number | undefined,
    durationMs: number,
    now?: number,
  ): Promise<void>
  /** The verification gate refused the digest: settled as `refused` at once (waiting will not sign it). */
  refused(retag: RetagRecord, error: string, durationMs: number, now?: number): Promise<void>
  notificationSent(
    notification: NotificationRecord,
    outcome: { status: string; message: string },
    now?: number,
  ): Promise<void>
  notificationFailed(
    notification: NotificationRecord,
    error: string,
    nextAt: number | undefined,
    now?: number,
  ): Promise<void>
  /** Failed steps of a release back in the queue with a fresh attempt budget; -1 when there is no such release. */
  retry(id: string, now?: number): Promise<number>

  /**
   * Retention: forget up to `limit` finished releases (nothing pending, no notification waiting) that finished
   * before `before`, with their steps, attempts and audit entries; what each tag points at is kept (newest-wins
   * needs it). Returns how many releases were removed.
   */
  prune(before: number, limit?: number): Promise<number>
  /** A write that must reach the storage, for readiness: fails when the disk is full or the database is gone. */
  probeWrite(now?: number): Promise<void>

  // Read views
  release(id: string): Promise<ReleaseRecord | undefined>
  history(filter?: { component?: string; tag?: string; limit?: number }): Promise<HistoryEntry[]>
  failedReleaseIds(): Promise<string[]>
  counts(): Promise<JournalCounts>
  notificationCounts(): Promise<Record<NotificationState, number>>
  pendingCount(): Promise<number>
  /** Registries the journal has retags for: what /readyz checks. */
  registries(): Promise<string[]>
  tagPointer(target: string): Promise<TagPointer | undefined>
}

/** Is Snapshot a newer than Snapshot b? Creation time first, then name: the same order on every replica. */
export function isNewer(a: { createdAt: string; snapshot: string }, b: { createdAt: string; snapshot: string }) {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt
  return a.snapshot > b.snapshot
}
