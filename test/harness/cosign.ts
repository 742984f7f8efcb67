/**
 * Sign images in tests the way cosign and Tekton Chains write signatures (cosign's specs/SIGNATURE_SPEC.md,
 * ATTESTATION_SPEC.md and BUNDLE_SPEC.md), with key pairs generated per test. Own code on node:crypto, independent
 * of src/verify and of the sigstore packages it uses, so a test never checks the verifier against itself.
 *
 *   const key = generateKeyPair()                                    // ECDSA P-256 like `cosign generate-key-pair`
 *   await writeFile(pubFile, key.publicPem)                          // cosign.pub: PEM "PUBLIC KEY"
 *   await signImage(reg, 'acme/api', digest, key)                    // tag sha256-<hex>.sig, simple-signing layer
 *   await signImage(reg, 'acme/api', digest, key, { payloadDigest: other })   // a signature over another digest
 *   await signReferrer(reg, 'acme/api', digest, key, 'bundle')       // Sigstore bundle as an OCI referrer
 *   await attestImage(reg, 'acme/api', digest, key, { predicate })   // tag sha256-<hex>.att, DSSE envelope
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { MEDIA, type TestRegistry } from './registry.js'

export const COSIGN = {
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  signatureAnnotation: 'dev.cosignproject.cosign/signature',
  certificateAnnotation: 'dev.sigstore.cosign/certificate',
  sigArtifact: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  dsse: 'application/vnd.dsse.envelope.v1+json',
  inToto: 'application/vnd.in-toto+json',
  bundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  signPredicate: 'https://sigstore.dev/cosign/sign/v1',
  slsaV02: 'https://slsa.dev/provenance/v0.2',
  slsaV1: 'https://slsa.dev/provenance/v1',
} as const

export interface TestKeyPair {
  kind: 'ecdsa-p256' | 'rsa'
  publicPem: string
  privateKey: KeyObject
}

export function generateKeyPair(kind: TestKeyPair['kind'] = 'ecdsa-p256'): TestKeyPair {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    kind,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: pair.privateKey,
  }
}

/** SHA-256 then ECDSA (ASN.1 DER) or RSA PKCS#1 v1.5, as cosign's key-pair signers do; base64. */
export function signBase64(key: TestKeyPair, data: Buffer | string): string {
  return sign('sha256', Buffer.from(data), key.privateKey).toString('base64')
}

/** DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body (byte lengths). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `),
    payload,
  ])
}

export function simpleSigningPayload(dockerReference: string, digest: string): string {
  return JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature',
    },
    optional: null,
  })
}

function hexOf(digest: string): string {
  return digest.split(':')[1] ?? ''
}

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** The config blob of cosign's signature and attestation images: an empty image config over the layers. */
function cosignConfig(layerDigests: string[]): string {
  return JSON.stringify({
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: layerDigests },
    config: {},
  })
}

interface Layer {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
}

/** Put a layer into the cosign image under `tag` (appending to what is there, as cosign does). */
async function appendToTag(reg: TestRegistry, repoPath: string, tag: string, layer: Layer): Promise<string> {
  const existing = await reg.getManifest(repoPath, tag)
  const layers: Layer[] = existing ? (JSON.parse(existing.bytes.toString('utf8')).layers ?? []) : []
  layers.push(layer)
  const config = await reg.pushBlob(repoPath, cosignConfig(layers.map((l) => l.digest)))
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, ...config },
    layers,
  })
  return reg.pushManifest(repoPath, tag, manifest, MEDIA.ociManifest)
}

export interface SignOptions {
  /** The digest the payload names (default: the signed digest): a signature over another digest. */
  payloadDigest?: string
  /** Annotate a certificate as keyless signing does (the signature is still made with `key`). */
  certificatePem?: string
  /** Corrupt the signature bytes. */
  tamper?: boolean
}

/** `cosign sign --key`: tag `sha256-<hex>.sig`, one simple-signing layer per signature. */
export async function signImage(
  reg: TestRegistry,
  repoPath: string,
  digest: string,
  key: TestKeyPair,
  options: SignOptions = {},
): Promise<string> {
  const payload = simpleSigningPayload(`${reg.host}/${repoPath}`, options.payloadDigest ?? digest)
  const blob = await reg.pushBlob(repoPath, payload)
  let signature = signBase64(key, payload)
  if (options.tamper)
    signature = Buffer.from(Buffer.from(signature, 'base64').map((b, i) => (i === 8 ? b ^ 1 : b))).toString('base64')
  return appendToTag(reg, repoPath, `${digest.replace(':', '-')}.sig`, {
    mediaType: COSIGN.simpleSigning,
    ...blob,
    annotations: {
      [COSIGN.signatureAnnotation]: signature,
      ...(options.certificatePem ? { [COSIGN.certificateAnnotation]: options.certificatePem } : {}),
    },
  })
}

/** An OCI 1.1 referrer manifest on `subjectDigest`, plus the referrers fallback tag (distribution 2.8 has no API). */
async function pushReferrerManifest(
  reg: TestRegistry,
  repoPath: string,
  subjectDigest: string,
  artifactType: string,
  layers: Layer[],
  annotations: Record<string, string> | undefined,
  config?: { mediaType: string; digest: string; size: number },
): Promise<string> {
  const subject = await reg.getManifest(repoPath, subjectDigest)
  if (!subject) throw new Error(`referrer: ${repoPath}@${subjectDigest} not found`)
  const empty = config ?? { mediaType: MEDIA.emptyJson, ...(await reg.pushBlob(repoPath, '{}')) }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    artifactType,
    config: empty,
    layers,
    subject: { mediaType: subject.mediaType.split(';')[0], digest: subjectDigest, size: subject.bytes.length },
    ...(annotations ? { annotations } : {}),
  })
  const digest = await reg.pushManifest(repoPath, sha256(manifest), manifest, MEDIA.ociManifest)
  const fallbackTag = subjectDigest.replace(':', '-')
  const existing = await reg.getManifest(repoPath, fallbackTag)
  const manifests = existing ? (JSON.parse(existing.bytes.toString('utf8')).manifests ?? []) : []
  manifests.push({
    mediaType: MEDIA.ociManifest,
    digest,
    size: Buffer.byteLength(manifest),
    artifactType,
    ...(annotations ? { annotations } : {}),
  })
  await reg.pushManifest(
    repoPath,
    fallbackTag,
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }),
    MEDIA.ociIndex,
  )
  return digest
}

export function statement(subjectDigest: string, predicateType: string, predicate: unknown): string {
  return JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'image', digest: { sha256: hexOf(subjectDigest) } }],
    predicateType,
    predicate,
  })
}

function envelope(key: TestKeyPair, payloadType: string, payload: string) {
  const body = Buffer.from(payload)
  return {
    payloadType,
    payload: body.toString('base64'),
    signatures: [{ keyid: '', sig: signBase64(key, pae(payloadType, body)) }],
  }
}

/**
 * Signatures as OCI referrers: `oci-sig` is cosign's OCI 1.1 signature (simple-signing layer, artifactType
 * application/vnd.dev.cosign.artifact.sig.v1+json), `bundle` is `cosign sign --new-bundle-format` (a Sigstore bundle
 * holding a DSSE statement with predicate https://sigstore.dev/cosign/sign/v1).
 */
export async function signReferrer(
  reg: TestRegistry,
  repoPath: string,
  digest: string,
  key: TestKeyPair,
  format: 'oci-sig' | 'bundle',
  options: { subjectDigest?: string } = {},
): Promise<string> {
  if (format === 'oci-sig') {
    const payload = simpleSigningPayload(`${reg.host}/${repoPath}`, options.subjectDigest ?? digest)
    const blob = await reg.pushBlob(repoPath, payload)
    const config = await reg.pushBlob(repoPath, cosignConfig([blob.digest]))
    return pushReferrerManifest(
      reg,
      repoPath,
      digest,
      COSIGN.sigArtifact,
      [
        {
          mediaType: COSIGN.simpleSigning,
          ...blob,
          annotations: { [COSIGN.signatureAnnotation]: signBase64(key, payload) },
        },
      ],
      undefined,
      { mediaType: COSIGN.sigArtifact, ...config },
    )
  }
  return attestBundle(reg, repoPath, digest, key, COSIGN.signPredicate, {}, options)
}

/** A Sigstore bundle v0.3 (public-key verification material) with a DSSE in-toto statement, as a referrer. */
export async function attestBundle(
  reg: TestRegistry,
  repoPath: string,
  digest: string,
  key: TestKeyPair,
  predicateType: string,
  predicate: unknown,
  options: { subjectDigest?: string } = {},
): Promise<string> {
  const env = envelope(key, COSIGN.inToto, statement(options.subjectDigest ?? digest, predicateType, predicate))
  const bundle = JSON.stringify({
    mediaType: COSIGN.bundle,
    verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
    dsseEnvelope: { payload: env.payload, payloadType: env.payloadType, signatures: [{ sig: env.signatures[0]?.sig }] },
  })
  const blob = await reg.pushBlob(repoPath, bundle)
  return pushReferrerManifest(reg, repoPath, digest, COSIGN.bundle, [{ mediaType: COSIGN.bundle, ...blob }], {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': predicateType,
    'org.opencontainers.image.created': new Date().toISOString(),
  })
}

/** `cosign attest --key`: tag `sha256-<hex>.att`, one DSSE envelope layer per attestation. */
export async function attestImage(
  reg: TestRegistry,
  repoPath: string,
  digest: string,
  key: TestKeyPair,
  options: { predicateType?: string; predicate: unknown; subjectDigest?: string },
): Promise<string> {
  const predicateType = options.predicateType ?? COSIGN.slsaV02
  const env = envelope(key, COSIGN.inToto, statement(options.subjectDigest ?? digest, predicateType, options.predicate))
  const blob = await reg.pushBlob(repoPath, JSON.stringify(env))
  return appendToTag(reg, repoPath, `${digest.replace(':', '-')}.att`, {
    mediaType: COSIGN.dsse,
    ...blob,
    annotations: { predicateType },
  })
}

/** SLSA v0.2 provenance the way Tekton Chains writes it for a Konflux build (the fields the policy reads). */
export function chainsProvenance(revision: string, builderId = 'https://tekton.dev/chains/v2') {
  return {
    builder: { id: builderId },
    buildType: 'tekton.dev/v1beta1/PipelineRun',
    invocation: {
      configSource: {
        uri: 'git+https://github.com/acme/api.git',
        digest: { sha1: revision },
        entryPoint: '.tekton/pull.yaml',
      },
    },
    materials: [{ uri: 'git+https://github.com/acme/api.git', digest: { sha1: revision } }],
  }
}
