/**
 * Errors a user can act on. `exit` follows the table every command documents:
 * 0 ok, 1 findings or failure, 2 usage error (bad flags, bad input values).
 */
export type ExitCode = 0 | 1 | 2

export class UserError extends Error {
  readonly exit: ExitCode
  readonly hint: string | undefined
  readonly code: string

  constructor(message: string, options: { exit?: ExitCode; hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'UserError'
    this.exit = options.exit ?? 1
    this.hint = options.hint
    this.code = options.code ?? (this.exit === 2 ? 'usage' : 'failed')
  }
}

/** A value given on the command line or in a file is wrong: exit 2. */
export class UsageError extends UserError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { ...options, exit: 2, code: options.code ?? 'usage' })
    this.name = 'UsageError'
  }
}
