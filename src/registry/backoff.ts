/**
 * The one backoff rule of konflux-gitops, used by the registry transport's quick retries, the releaser worker's
 * journal retries and the notification drain: exponential in the attempt, with "equal jitter" (half fixed, half
 * random) so waits never collapse to zero, capped, and never shorter than the server's Retry-After.
 */
export interface BackoffPolicy {
  /** Wait after the first failed attempt (before jitter). */
  readonly baseMs: number
  /** Upper bound of the exponential part. */
  readonly maxMs: number
  /** Upper bound for a Retry-After the server asks for (default 5 minutes). */
  readonly maxRetryAfterMs?: number
}

/** Wait before the next attempt, after `attempt` failed attempts (1 = the first one failed). */
export function backoffMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2))
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.maxRetryAfterMs ?? 5 * 60_000))
}
