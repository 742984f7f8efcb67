import { UsageError, UserError } from '../cli/errors.js'

/** Stable codes for verification outcomes a user can act on. */
export type VerifyErrorCode = 'verify-unsigned' | 'verify-attestation' | 'verify-key-invalid' | 'verify-key-unreadable'

/** A digest that is not signed (or not attested) as required: exit 1, nothing was moved or written for it. */
export class VerifyError extends UserError {
  constructor(message: string, options: { code?: VerifyErrorCode; hint?: string } = {}) {
    super(message, {
      code: options.code ?? 'verify-unsigned',
      hint:
        options.hint ??
        'Release only what Konflux built and signed: check that Tekton Chains signed this digest, and that --verify-key names its public key (cosign.pub).',
    })
    this.name = 'VerifyError'
  }
}

/** A key file that cannot be used: exit 2, nothing was read from the registry. */
export class VerifyKeyError extends UsageError {
  constructor(message: string, options: { code?: VerifyErrorCode; hint?: string } = {}) {
    super(message, {
      code: options.code ?? 'verify-key-invalid',
      hint:
        options.hint ??
        'Give the PEM public key ("-----BEGIN PUBLIC KEY-----", e.g. cosign.pub or Konflux\'s Chains public key), ECDSA P-256/P-384 or RSA.',
    })
    this.name = 'VerifyKeyError'
  }
}
