import { type RetagExecutor, RetagFailure, type RetagOutcome, type RetagRequest } from '../../src/releaser/index.js'

/**
 * A registry kept in a Map, for the journal/worker unit tests only (the daemon's own tests use the real registry).
 * It keeps the history of every tag so tests can assert a tag never moved back.
 */
export class MemoryExecutor implements RetagExecutor {
  readonly tags = new Map<string, string>()
  readonly puts: Array<{ target: string; digest: string }> = []
  readonly heads: string[] = []
  /** Called before each attempt; throw a RetagFailure to inject a fault. */
  fault: ((request: RetagRequest, call: number) => void) | undefined
  delayMs = 0
  private calls = 0

  async retag(request: RetagRequest, signal: AbortSignal): Promise<RetagOutcome> {
    this.calls++
    if (this.delayMs > 0) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(signal.reason)
        })
      })
    }
    this.fault?.(request, this.calls)
    const target = `${request.repository}:${request.tag}`
    this.heads.push(target)
    const before = this.tags.get(target) ?? null
    if (before === request.digest) return { action: 'already', fromDigest: before }
    this.tags.set(target, request.digest)
    this.puts.push({ target, digest: request.digest })
    return { action: 'moved', fromDigest: before }
  }

  async reachable(): Promise<boolean> {
    return true
  }
}

export function unavailable(retryAfterMs?: number): RetagFailure {
  return new RetagFailure('503 Service Unavailable', {
    retryable: true,
    status: 503,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  })
}
