import PQueue from 'p-queue'
import { backoffMs } from '../registry/index.js'
import { ClaimPump } from './claim-pump.js'
import type { Journal, NotificationPlanner, NotificationRecord } from './journal/index.js'

/** What the daemon needs to notify updaters: the planner the journal runs, and the sender the drain calls. */
export interface ReleaserNotify {
  readonly planner: NotificationPlanner
  /** Send one stored notification (its payload); throws when it should be retried. Never sees a retag. */
  readonly send: (payload: string) => Promise<{ status: string; message: string }>
  /** Outcomes that are answers, not successes (no dashboard, Dependabot): logged once as warnings. */
  readonly isWarning?: (status: string) => boolean
  readonly options?: Partial<NotificationDrainOptions>
  /** Human description of the targets for the start log line (never a token). */
  readonly describe?: string
}

export interface NotificationDrainOptions {
  readonly concurrency: number
  /** Attempts before a notification is settled as failed (visible in GET /v1/releases/ID; `releaser retry`). */
  readonly maxAttempts: number
  readonly baseBackoffMs: number
  readonly maxBackoffMs: number
  readonly pollMs: number
  readonly attemptTimeoutMs: number
}

export const DEFAULT_NOTIFICATION_OPTIONS: NotificationDrainOptions = {
  concurrency: 8,
  maxAttempts: 6,
  baseBackoffMs: 1000,
  maxBackoffMs: 60_000,
  pollMs: 250,
  attemptTimeoutMs: 30_000,
}

export type NotificationEvent =
  | { kind: 'sent'; notification: NotificationRecord; status: string; message: string; durationMs: number }
  | { kind: 'retry'; notification: NotificationRecord; error: string; attempt: number; delayMs: number }
  | { kind: 'failed'; notification: NotificationRecord; error: string; attempt: number }

/**
 * Sends the journal's pending notifications, apart from the retag queues: a slow or failing GitHub never holds a
 * retag back. Each send is one attempt in the journal; failures are retried with backoff and, after maxAttempts,
 * kept as failed. What is pending at a restart is sent by the next start.
 */
export class NotificationDrain {
  private readonly queue: PQueue
  private readonly busy = new Set<number>()
  private readonly options: NotificationDrainOptions
  private readonly pump: ClaimPump
  private stopping = true
  /** Claiming failed (the journal unreachable); the next poll tries again. */
  onClaimError: (error: unknown) => void = () => {}

  constructor(
    private readonly journal: Journal,
    private readonly notify: ReleaserNotify,
    private readonly onEvent: (event: NotificationEvent) => void = () => {},
  ) {
    this.options = { ...DEFAULT_NOTIFICATION_OPTIONS, ...notify.options }
    this.queue = new PQueue({ concurrency: this.options.concurrency })
    this.pump = new ClaimPump(
      this.options.pollMs,
      () => this.stopping,
      () => this.claim(),
      (error) => this.onClaimError(error),
    )
  }

  start(): void {
    this.stopping = false
    this.pump.start()
  }

  wake(): void {
    this.pump.wake()
  }

  private async claim(): Promise<void> {
    if (this.stopping || !this.journal.isOpen) return
    const room = this.options.concurrency * 2 - this.busy.size
    if (room <= 0) return
    for (const notification of await this.journal.claimNotifications(room)) {
      this.pump.runClaimed(this.queue, this.busy, notification.id, () => this.attempt(notification))
    }
  }

  private async attempt(notification: NotificationRecord): Promise<void> {
    if (this.stopping || !this.journal.isOpen) return
    const attempt = await this.journal.startAttempt(notification)
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.options.attemptTimeoutMs} ms`)),
        this.options.attemptTimeoutMs,
      )
    })
    try {
      const outcome = await Promise.race([this.notify.send(notification.payload), timeout])
      if (!this.journal.isOpen) return
      await this.journal.notificationSent(notification, outcome)
      this.onEvent({ kind: 'sent', notification, ...outcome, durationMs: performance.now() - started })
    } catch (error) {
      if (!this.journal.isOpen) return
      const e = error as { message?: string; hint?: string }
      const message = `${e.message ?? String(error)}${e.hint ? ` (${e.hint})` : ''}`
      if (attempt < this.options.maxAttempts && !this.stopping) {
        const delayMs = backoffMs(attempt, { baseMs: this.options.baseBackoffMs, maxMs: this.options.maxBackoffMs })
        await this.journal.notificationFailed(notification, message, Date.now() + delayMs)
        this.onEvent({ kind: 'retry', notification, error: message, attempt, delayMs })
      } else if (attempt < this.options.maxAttempts) {
        // Shutting down: the next start sends it again, without waiting for a backoff.
        await this.journal.notificationFailed(notification, message, Date.now())
      } else {
        await this.journal.notificationFailed(notification, message, undefined)
        this.onEvent({ kind: 'failed', notification, error: message, attempt })
      }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stop claiming; give in-flight sends up to `timeoutMs`. Unsent ones stay pending for the next start. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true
    this.pump.stop()
    this.queue.clear()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.queue.onIdle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}
