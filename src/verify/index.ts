/**
 * Signature and provenance checks: release, deploy and render only what Konflux built and signed.
 *
 *   const keys = await loadVerificationKeys(['cosign.pub'])                 // PEM public keys, several for rotation
 *   const check = await checkSignature(client, { registry, path, digest }, keys)
 *   if (!check.signed) throw new VerifyError(check.summary)
 *   const att = await checkAttestation(client, image, keys, { builderId, sourceRevision })
 *
 * Checked: cosign key-based signatures (`.sig` tag and OCI referrers, simple-signing payloads and Sigstore bundles),
 * the payload's digest, DSSE attestations (`.att` tag and referrers) with their in-toto subject and predicate policy.
 * Not checked: keyless signatures (Fulcio certificates), Rekor transparency-log entries and timestamps.
 */
export { VerifyError, type VerifyErrorCode, VerifyKeyError } from './errors.js'
export { createSignatureGate, type GateOptions, type SourceGate, type SourceRefusal, UNSIGNED_HINT } from './gate.js'
export {
  isInlineKey,
  type KeyKind,
  loadVerificationKeys,
  parseVerificationKeys,
  repoKeySources,
  type VerificationKey,
} from './keys.js'
export { type AttestationPolicy, checkPredicate, DEFAULT_PREDICATE_TYPES, SLSA_V1, SLSA_V02 } from './policy.js'
export {
  type AttestationCheck,
  CERTIFICATE_ANNOTATION,
  COSIGN_SIG_ARTIFACT,
  COSIGN_SIGN_PREDICATE,
  checkAttestation,
  checkSignature,
  DSSE_ENVELOPE,
  type ImageAt,
  IN_TOTO,
  type Rejection,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING,
  type SignatureCheck,
  simpleSigningProblem,
} from './verify.js'
