/**
 * The check `release`, the releaser and render make before an image moves: signed by one of the keys (and, when a
 * policy is given, attested). One answer per image per gate, so a digest released under several tags is checked once.
 */
import type { RegistryClient } from '../registry/index.js'
import type { VerificationKey } from './keys.js'
import type { AttestationPolicy } from './policy.js'
import { checkAttestation, checkSignature, type ImageAt } from './verify.js'

export interface SourceRefusal {
  code: 'verify-unsigned' | 'verify-attestation'
  message: string
  hint: string
}

/** Undefined: the image may move. A refusal: it must not. Throws on registry failures (try again later). */
export type SourceGate = (
  image: ImageAt,
  context?: { sourceRevision?: string | undefined },
) => Promise<SourceRefusal | undefined>

export interface GateOptions {
  /** How long a refusal is reused for the same image (default 10 s; tags of one Snapshot share it; 0: only while the check runs). */
  refusalTtlMs?: number
  /** Also require a provenance attestation meeting this policy. */
  attestation?: AttestationPolicy & {
    /** The source commit must be the Snapshot component's revision (passed by the caller as context). */
    sourceRevisionFromSnapshot?: boolean
  }
}

export const UNSIGNED_HINT =
  'Only images signed by a trusted key are released: check that Tekton Chains signed this digest (cosign tree IMAGE) and that the verify key is its public key (cosign.pub).'

export function createSignatureGate(
  client: RegistryClient,
  keys: readonly VerificationKey[],
  options: GateOptions = {},
): SourceGate {
  const answers = new Map<string, Promise<SourceRefusal | undefined>>()
  return (image, context = {}) => {
    const revision = options.attestation?.sourceRevisionFromSnapshot ? context.sourceRevision : undefined
    const key = `${image.registry}/${image.path}@${image.digest}#${revision ?? ''}`
    let answer = answers.get(key)
    if (!answer) {
      answer = decide(client, image, keys, options, revision)
      answers.set(key, answer)
      // A registry failure is not an answer: the next attempt asks again. A refusal is remembered only briefly (a
      // long-running releaser checks again once Chains has signed); a signature that verified stays verified.
      answer.then(
        (refused) => {
          const ttl = options.refusalTtlMs ?? 10_000
          if (refused && ttl <= 0) answers.delete(key)
          else if (refused) setTimeout(() => answers.delete(key), ttl).unref()
        },
        () => answers.delete(key),
      )
    }
    return answer
  }
}

async function decide(
  client: RegistryClient,
  image: ImageAt,
  keys: readonly VerificationKey[],
  options: GateOptions,
  revision: string | undefined,
): Promise<SourceRefusal | undefined> {
  const signature = await checkSignature(client, image, keys)
  if (!signature.signed)
    return { code: 'verify-unsigned', message: `refused: ${signature.summary}`, hint: UNSIGNED_HINT }
  if (!options.attestation) return undefined
  const { sourceRevisionFromSnapshot, ...policy } = options.attestation
  if (sourceRevisionFromSnapshot && revision === undefined) {
    return {
      code: 'verify-attestation',
      message: `refused: ${signature.image}: the Snapshot gives no source revision to check the provenance against`,
      hint: 'The Snapshot component needs source.git.revision, or drop the source-revision policy.',
    }
  }
  const attestation = await checkAttestation(client, image, keys, {
    ...policy,
    ...(revision === undefined ? {} : { sourceRevision: revision }),
  })
  if (attestation.attested) return undefined
  return {
    code: 'verify-attestation',
    message: `refused: ${attestation.summary}`,
    hint: 'Only images with provenance from the trusted builder are released: check the Chains attestation (cosign tree IMAGE) and the policy.',
  }
}
