/**
 * Signature checks through sigstore-js (@sigstore/verify, @sigstore/bundle): a cosign simple-signing signature is a
 * message signature over the payload bytes, an attestation is a DSSE envelope signed over its PAE encoding. Only
 * key-based trust is used: the trust root is empty and the key finder answers with the configured public key, so a
 * signature that needs a certificate (keyless: Fulcio, Rekor) never verifies here. Transparency-log entries and
 * timestamps carried in a bundle are not checked (there is no Rekor key to check them with) and are dropped before
 * verifying, so they can neither help nor hurt.
 *
 * The packages are loaded on first use so commands that verify nothing do not pay for them at start-up.
 */
import { createHash } from 'node:crypto'
import type { Bundle } from '@sigstore/bundle'
import type { VerificationKey } from './keys.js'

type Sigstore = {
  verify: typeof import('@sigstore/verify')
  bundle: typeof import('@sigstore/bundle')
}

let loaded: Promise<Sigstore> | undefined

function sigstore(): Promise<Sigstore> {
  loaded ??= Promise.all([import('@sigstore/verify'), import('@sigstore/bundle')]).then(([verify, bundle]) => ({
    verify,
    bundle,
  }))
  return loaded
}

/** A DSSE envelope as JSON (payload and sigs base64). */
export interface EnvelopeJson {
  payloadType?: unknown
  payload?: unknown
  signatures?: unknown
}

export type KeyedResult = { ok: true; key: VerificationKey } | { ok: false; reason: string }

async function verifyBundle(bundle: Bundle, keys: readonly VerificationKey[], artifact?: Buffer): Promise<KeyedResult> {
  const { verify } = await sigstore()
  const keyless = bundle.verificationMaterial.content.$case !== 'publicKey'
  // Key-based trust only: see the module comment for why tlog entries and timestamps are dropped.
  const keyOnly: Bundle = {
    ...bundle,
    verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [], timestampVerificationData: undefined },
  }
  if (keyless) {
    return {
      ok: false,
      reason:
        'signed with a certificate (keyless); keyless verification (Fulcio, Rekor) is not supported, only public keys',
    }
  }
  const entity = verify.toSignedEntity(keyOnly, artifact)
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  }
  for (const key of keys) {
    const material = verify.toTrustMaterial(root, () => ({ publicKey: key.key, validFor: () => true }))
    const verifier = new verify.Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 })
    try {
      verifier.verify(entity)
      return { ok: true, key }
    } catch {
      // next key
    }
  }
  return { ok: false, reason: `signature does not verify with ${describeKeys(keys)}` }
}

export function describeKeys(keys: readonly VerificationKey[]): string {
  return keys.length === 1 ? `key ${keys[0]?.label}` : `any of the keys ${keys.map((k) => k.label).join(', ')}`
}

/** A cosign simple-signing signature (base64, as in the `dev.cosignproject.cosign/signature` annotation). */
export async function verifyMessageSignature(
  payload: Buffer,
  signatureBase64: string,
  keys: readonly VerificationKey[],
): Promise<KeyedResult> {
  const { bundle } = await sigstore()
  const signature = Buffer.from(signatureBase64, 'base64')
  if (signature.length === 0) return { ok: false, reason: 'the signature annotation is empty' }
  const digest = createHash('sha256').update(payload).digest()
  return verifyBundle(bundle.toMessageSignatureBundle({ digest, signature, keyHint: '' }), keys, payload)
}

/** A DSSE envelope: verifies when any of its signatures verifies with one of the keys. */
export async function verifyEnvelope(envelope: EnvelopeJson, keys: readonly VerificationKey[]): Promise<KeyedResult> {
  const { bundle } = await sigstore()
  if (typeof envelope.payloadType !== 'string' || typeof envelope.payload !== 'string') {
    return { ok: false, reason: 'not a DSSE envelope (payloadType and payload missing)' }
  }
  const signatures = Array.isArray(envelope.signatures) ? envelope.signatures : []
  if (signatures.length === 0) return { ok: false, reason: 'the DSSE envelope has no signature' }
  const payload = Buffer.from(envelope.payload, 'base64')
  for (const entry of signatures as { sig?: unknown; keyid?: unknown }[]) {
    if (typeof entry?.sig !== 'string' || entry.sig === '') continue
    const result = await verifyBundle(
      bundle.toDSSEBundle({
        artifact: payload,
        artifactType: envelope.payloadType,
        signature: Buffer.from(entry.sig, 'base64'),
        keyHint: typeof entry.keyid === 'string' ? entry.keyid : '',
      }),
      keys,
    )
    if (result.ok) return result
  }
  return { ok: false, reason: `no signature of the DSSE envelope verifies with ${describeKeys(keys)}` }
}

/** A Sigstore bundle (cosign's `--new-bundle-format` referrer): parsed and verified; also returns its content. */
export async function verifySigstoreBundle(
  json: unknown,
  keys: readonly VerificationKey[],
): Promise<KeyedResult & { envelope?: { payloadType: string; payload: Buffer } }> {
  const { bundle: lib } = await sigstore()
  let bundle: Bundle
  try {
    bundle = lib.bundleFromJSON(json)
  } catch (error) {
    return { ok: false, reason: `not a valid Sigstore bundle (${(error as Error).message})` }
  }
  if (bundle.content.$case !== 'dsseEnvelope') {
    return {
      ok: false,
      reason: 'a message-signature bundle names no image digest; cosign signs images with DSSE bundles',
    }
  }
  const { payloadType, payload } = bundle.content.dsseEnvelope
  const result = await verifyBundle(bundle, keys)
  return { ...result, envelope: { payloadType, payload: Buffer.from(payload) } }
}
