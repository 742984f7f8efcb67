import { UserError } from '../cli/errors.js'

export type RegistryErrorCode =
  | 'registry-unauthorized'
  | 'registry-denied'
  | 'registry-not-found'
  | 'registry-digest-mismatch'
  | 'registry-unavailable'
  | 'registry-error'

/** A registry call that failed; messages name the method, repository and status, never credentials. */
export class RegistryError extends UserError {
  readonly status: number | undefined
  readonly registryCode: RegistryErrorCode

  constructor(
    message: string,
    options: { status?: number; code?: RegistryErrorCode; hint?: string; cause?: unknown } = {},
  ) {
    super(message, {
      code: options.code ?? 'registry-error',
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    })
    this.name = 'RegistryError'
    this.status = options.status
    this.registryCode = options.code ?? 'registry-error'
  }
}

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}` → `MANIFEST_UNKNOWN: ...` (first two). */
export function describeRegistryBody(body: string): string {
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
