import PQueue from 'p-queue'
import { backoffMs } from '../registry/index.js'
import { ClaimPump } from './claim-pump.js'
import { type RetagExecutor, RetagFailure, type RetagOutcome } from './executor.js'
import type { Journal, RetagRecord } from './journal/index.js'

export interface WorkerOptions {
  /** Retags in flight per registry host. */
  readonly perRegistryConcurrency: number
  /** Attempts before a retag is settled as failed (visible, retryable). */
  readonly maxAttempts: number
  /** First backoff; doubles per attempt with full jitter, capped at `maxBackoffMs`. */
  readonly baseBackoffMs: number
  readonly maxBackoffMs: number
  /** How often the journal is polled for work that became due (retries, `releaser retry` from another process). */
  readonly pollMs: number
  /** One attempt that takes longer (a stalled registry) is abandoned and counts as a failed, retryable attempt. */
  readonly attemptTimeoutMs: number
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  perRegistryConcurrency: 16,
  maxAttempts: 6,
  baseBackoffMs: 250,
  maxBackoffMs: 30_000,
  pollMs: 250,
  attemptTimeoutMs: 120_000,
}

export type WorkerEvent =
  | { kind: 'done'; retag: RetagRecord; outcome: RetagOutcome; durationMs: number }
  | { kind: 'superseded'; retag: RetagRecord; by: string }
  | { kind: 'retry'; retag: RetagRecord; error: string; status: number | undefined; delayMs: number; attempt: number }
  | { kind: 'failed'; retag: RetagRecord; error: string; status: number | undefined; attempt: number }
  | { kind: 'refused'; retag: RetagRecord; error: string }

/**
 * Drains the journal's pending retags into one p-queue per registry. One retag per tag at a time (so the
 * newest-wins check made before an attempt still holds when it lands); settled in the journal after each attempt.
 */
export class Worker {
  private readonly queues = new Map<string, PQueue>()
  private readonly busyTargets = new Set<number>()
  private readonly inFlight = new Map<number, AbortController>()
  private readonly options: WorkerOptions
  private readonly pump: ClaimPump
  private stopping = false
  /** While this says so, no new work is claimed (the journal cannot record it). */
  paused: () => boolean = () => false
  /** Claiming failed (the journal unreachable); the next poll tries again. */
  onClaimError: (error: unknown) => void = () => {}

  constructor(
    private readonly journal: Journal,
    private readonly executor: RetagExecutor,
    options: Partial<WorkerOptions> = {},
    private readonly onEvent: (event: WorkerEvent) => void = () => {},
  ) {
    this.options = { ...DEFAULT_WORKER_OPTIONS, ...options }
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

  get activeCount(): number {
    return this.inFlight.size
  }

  /** Look for due work soon (coalesced: many wakes in one tick claim once). */
  wake(): void {
    this.pump.wake()
  }

  private queueFor(registry: string): PQueue {
    let queue = this.queues.get(registry)
    if (!queue) {
      queue = new PQueue({ concurrency: this.options.perRegistryConcurrency })
      this.queues.set(registry, queue)
    }
    return queue
  }

  private async claim(): Promise<void> {
    if (this.stopping || !this.journal.isOpen || this.paused()) return
    // Keep each registry queue fed up to twice its concurrency; the rest waits in the journal, not in memory.
    const room = Math.max(
      this.options.perRegistryConcurrency * 2 * Math.max(1, this.queues.size) - this.busyTargets.size,
      0,
    )
    if (room === 0) return
    // Everything claimed is queued: a claim is held (and renewed) until the step settles or the worker stops.
    for (const retag of await this.journal.claimRetags(room)) {
      this.pump.runClaimed(this.queueFor(retag.registry), this.busyTargets, retag.id, () => this.attempt(retag))
    }
  }

  private async attempt(retag: RetagRecord): Promise<void> {
    if (this.stopping || !this.journal.isOpen) return
    const by = await this.journal.supersededBy(retag)
    if (by !== undefined) {
      this.onEvent({ kind: 'superseded', retag, by })
      return
    }
    const attempt = await this.journal.startAttempt(retag)
    const controller = new AbortController()
    this.inFlight.set(retag.id, controller)
    const stalled = setTimeout(
      () =>
        controller.abort(new RetagFailure(`no answer within ${this.options.attemptTimeoutMs} ms`, { retryable: true })),
      this.options.attemptTimeoutMs,
    )
    const started = performance.now()
    try {
      const outcome = await this.executor.retag(
        {
          registry: retag.registry,
          source: retag.source,
          repository: retag.repository,
          tag: retag.tag,
          digest: retag.digest,
        },
        controller.signal,
      )
      const durationMs = performance.now() - started
      if (!this.journal.isOpen) return
      await this.journal.succeeded(retag, { ...outcome, durationMs })
      this.onEvent({ kind: 'done', retag, outcome, durationMs })
    } catch (error) {
      const durationMs = performance.now() - started
      // Parked by shutdown: the attempt did not count, the retag stays pending for the next start.
      if (this.stopping || !this.journal.isOpen) return
      const reason = controller.signal.aborted ? controller.signal.reason : error
      const failure =
        reason instanceof RetagFailure ? reason : new RetagFailure((reason as Error).message, { retryable: true })
      if (failure.code?.startsWith('verify-')) {
        await this.journal.refused(retag, failure.message, durationMs)
        this.onEvent({ kind: 'refused', retag, error: failure.message })
      } else if (failure.retryable && attempt < this.options.maxAttempts) {
        const delayMs = backoffMs(
          attempt,
          { baseMs: this.options.baseBackoffMs, maxMs: this.options.maxBackoffMs },
          failure.retryAfterMs,
        )
        await this.journal.attemptFailed(retag, failure.message, Date.now() + delayMs, durationMs)
        this.onEvent({ kind: 'retry', retag, error: failure.message, status: failure.status, delayMs, attempt })
      } else {
        await this.journal.attemptFailed(retag, failure.message, undefined, durationMs)
        this.onEvent({ kind: 'failed', retag, error: failure.message, status: failure.status, attempt })
      }
    } finally {
      clearTimeout(stalled)
      this.inFlight.delete(retag.id)
    }
  }

  /**
   * Stop claiming; wait up to `timeoutMs` for in-flight retags, then abort the rest. Aborted retags stay pending
   * in the journal (parked) and the next start picks them up. Returns how many were parked.
   */
  async stop(timeoutMs: number): Promise<number> {
    this.stopping = true
    this.pump.stop()
    for (const queue of this.queues.values()) queue.clear()
    const idle = Promise.all([...this.queues.values()].map((queue) => queue.onIdle()))
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([idle.then(() => 'idle' as const), timedOut])
    clearTimeout(timer)
    let parked = 0
    if (result === 'timeout') {
      for (const controller of this.inFlight.values()) {
        controller.abort(new Error('shutting down'))
        parked++
      }
      await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 1000))])
    }
    return parked
  }
}
