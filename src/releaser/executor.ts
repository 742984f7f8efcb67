/**
 * What the worker needs from a registry, kept this small so the journal/worker core is tested on its own and the
 * real OCI client (src/registry, the same engine `konflux-gitops release` uses) plugs in behind it.
 */
export interface RetagRequest {
  /** For messages only. */
  readonly component?: string
  readonly registry: string
  /** `registry/path@sha256:…` */
  readonly source: string
  /** `registry/path` */
  readonly repository: string
  readonly tag: string
  readonly digest: string
}

export interface RetagOutcome {
  /** `moved`: the tag was PUT; `already`: a HEAD showed it already pointed at the digest, nothing written. */
  readonly action: 'moved' | 'already'
  /** What the tag pointed at before, when the registry told us. */
  readonly fromDigest: string | null
  /** Things an operator should know (a Quay tag that will expire), logged by the daemon. */
  readonly warnings?: readonly string[]
}

export interface RetagExecutor {
  retag(request: RetagRequest, signal: AbortSignal): Promise<RetagOutcome>
  /** Readiness: can we reach this registry at all (any HTTP answer counts)? */
  reachable(registry: string, signal: AbortSignal): Promise<boolean>
  /** Let in-flight registry work finish, then release connections. */
  close?(): Promise<void>
  /** Drop every connection now, in-flight ones included (shutdown when a registry stalls). */
  destroy?(): Promise<void>
}

/**
 * An attempt that failed, as the engine reported it: `retryable` is false for answers that will not change by
 * waiting (404 manifest unknown, 401/403 after auth, a refused move); `retryAfterMs` is the registry's Retry-After.
 */
export class RetagFailure extends Error {
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly status: number | undefined
  readonly code: string | undefined

  constructor(
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; status?: number; code?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RetagFailure'
    this.retryable = options.retryable
    this.retryAfterMs = options.retryAfterMs
    this.status = options.status
    this.code = options.code
  }
}

/**
 * Intake could not read what a Snapshot's tags need from a registry (no answer in time, a 5xx, a reset): nothing
 * was stored. The webhook answers 503 with Retry-After; the Kubernetes watch keeps its cursor and tries again.
 */
export class RegistryUnavailable extends Error {
  readonly retryAfterMs: number | undefined

  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RegistryUnavailable'
    this.retryAfterMs = options.retryAfterMs
  }
}
