import type PQueue from 'p-queue'

/**
 * The polling both journal drains (retags, notifications) share: claim due work on a timer and whenever something
 * settles, with many wakes in one tick coalesced into one claim.
 */
export class ClaimPump {
  private timer: NodeJS.Timeout | undefined
  private scheduled = false
  private claiming = false
  private again = false

  constructor(
    private readonly pollMs: number,
    private readonly isStopping: () => boolean,
    private readonly claim: () => Promise<void>,
    /** A claim that failed (the database unreachable): said, then tried again at the next wake or poll. */
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.pollMs)
    this.timer.unref()
    this.wake()
  }

  /** Look for due work soon (coalesced: many wakes in one tick claim once). */
  wake(): void {
    if (this.scheduled || this.isStopping()) return
    this.scheduled = true
    setImmediate(() => {
      // One claim at a time: the next wake waits for this one's transaction, then claims what is still due.
      if (this.claiming) {
        this.again = true
        this.scheduled = false
        return
      }
      this.scheduled = false
      this.claiming = true
      this.claim()
        .catch((error: unknown) => this.onError(error))
        .finally(() => {
          this.claiming = false
          if (this.again) {
            this.again = false
            this.wake()
          }
        })
    })
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /**
   * Runs `task` on `queue` with `key` held in `busy` (so the worker knows how much it holds), then
   * frees the key and looks for more. The task settles its own outcome in the journal; a throw is not lost work.
   */
  runClaimed<K>(queue: PQueue, busy: Set<K>, key: K, task: () => Promise<void>): void {
    busy.add(key)
    queue
      .add(task)
      .catch(() => {})
      .finally(() => {
        busy.delete(key)
        this.wake()
      })
  }
}
