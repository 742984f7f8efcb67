import { UserError } from '../cli/errors.js'

export type RegistryErrorCode =
  | 'registry-unauthorized'
  | 'registry-denied'
  | 'registry-not-found'
  | 'registry-digest-mismatch'
  | 'registry-unavailable'
  | 'registry-error'

/** Answers that waiting will not change (until someone fixes credentials, permissions or the image). */
const FINAL_CODES: ReadonlySet<RegistryErrorCode> = new Set([
  'registry-unauthorized',
  'registry-denied',
  'registry-not-found',
])

/**
 * A registry call that failed; messages name the method, repository and status, never credentials.
 * `retryable`: whether trying again later can succeed (a 503, a reset connection), as opposed to a 401/403/404;
 * `retryAfterMs`: how long the registry asked us to wait (its Retry-After), when it did.
 */
export class RegistryError extends UserError {
  readonly status: number | undefined
  readonly registryCode: RegistryErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(
    message: string,
    options: {
      status?: number
      code?: RegistryErrorCode
      hint?: string
      cause?: unknown
      retryable?: boolean
      retryAfterMs?: number | undefined
    } = {},
  ) {
    super(scrubCredentials(message), {
      code: options.code ?? 'registry-error',
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    })
    this.name = 'RegistryError'
    this.status = options.status
    this.registryCode = options.code ?? 'registry-error'
    this.retryable = options.retryable ?? !FINAL_CODES.has(this.registryCode)
    this.retryAfterMs = options.retryAfterMs
  }
}

/**
 * Anything credential-shaped in text that came from a registry (an error body, a header echoed back) is replaced
 * before it can reach a message, a log line, the releaser journal or its API: Authorization values, JWTs, token or
 * password fields, and userinfo in URLs. Registries do echo requests in errors; this is the one place that cleans.
 */
export function scrubCredentials(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 [redacted]')
    .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*)?/g, '[redacted-jwt]')
    .replace(
      /(["']?\b(?:access_token|refresh_token|id_token|token|password|passwd|secret|authorization|auth|identitytoken)\b["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}]+)/gi,
      '$1[redacted]',
    )
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[redacted]@')
}

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}` → `MANIFEST_UNKNOWN: ...` (first two). */
export function describeRegistryBody(body: string): string {
  return scrubCredentials(printable(summarise(body)))
}

function summarise(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] }
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors
        .slice(0, 2)
        .map((e) => [e.code, e.message].filter(Boolean).join(': '))
        .join('; ')
    }
  } catch {
    // not JSON: fall through
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200)
}

/**
 * Printable text only: control characters (terminal escapes, carriage returns, newlines) from a registry or a
 * request are shown escaped. `lines` keeps newlines and tabs, for output that is ours but quotes such text.
 */
export function printable(text: string, options: { lines?: boolean } = {}): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    options.lines && (c === '\n' || c === '\t') ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
