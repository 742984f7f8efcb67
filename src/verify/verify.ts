/**
 * Is a digest signed (and optionally attested) by one of our keys? Signatures are found where cosign and Tekton
 * Chains put them (cosign's SIGNATURE_SPEC, ATTESTATION_SPEC and BUNDLE_SPEC):
 *
 * - the tag `sha256-<hex>.sig` in the image's repository: an image manifest whose layers are simple-signing payloads
 *   (`application/vnd.dev.cosign.simplesigning.v1+json`) with the base64 signature in the layer annotation
 *   `dev.cosignproject.cosign/signature`; the payload's `critical.image.docker-manifest-digest` names the digest;
 * - OCI referrers of the digest (the referrers API, else the fallback tag `sha256-<hex>`): cosign's OCI 1.1
 *   signatures (artifactType `application/vnd.dev.cosign.artifact.sig.v1+json`, same layers as above) and Sigstore
 *   bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`) holding a DSSE in-toto statement whose subject is the
 *   digest (predicate `https://sigstore.dev/cosign/sign/v1` for a signature, any other for an attestation);
 * - attestations also under the tag `sha256-<hex>.att`: layers `application/vnd.dsse.envelope.v1+json`, and OCI
 *   referrers of artifactType `application/vnd.in-toto+json`.
 *
 * For an image index the index digest is what is signed (Konflux signs the digest it built); platform manifests are
 * not looked at. Registry failures are thrown (a registry that is down is not "unsigned"); a missing or malformed
 * signature is a rejection with its reason.
 */

import type { Descriptor, ManifestData } from '../registry/index.js'
import { type RegistryClient, RegistryError, type RepositoryRef, referrersTag } from '../registry/index.js'
import {
  describeKeys,
  type EnvelopeJson,
  verifyEnvelope,
  verifyMessageSignature,
  verifySigstoreBundle,
} from './crypto.js'
import type { VerificationKey } from './keys.js'
import { type AttestationPolicy, checkPredicate, DEFAULT_PREDICATE_TYPES } from './policy.js'

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json'
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature'
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate'
export const COSIGN_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json'
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json'
export const IN_TOTO = 'application/vnd.in-toto+json'
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1'
const SIGSTORE_BUNDLE = /^application\/vnd\.dev\.sigstore\.bundle(\.v\d+\.\d+)?\+json/
const SIMPLE_SIGNING_TYPE = 'cosign container image signature'
const IN_TOTO_STATEMENTS = new Set(['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'])

export interface ImageAt extends RepositoryRef {
  readonly digest: string
}

export interface Rejection {
  /** `sha256-….sig layer 1`, `referrer sha256:…` */
  where: string
  reason: string
}

export interface SignatureCheck {
  /** `registry/path@digest` */
  image: string
  signed: boolean
  /** Where the signature that verified was found and the key it verified with. */
  verified: { where: string; key: string } | undefined
  /** Signatures found that did not verify, and why. */
  rejected: Rejection[]
  /** One line for a report: what verified, or what is missing and why. */
  summary: string
}

export interface AttestationCheck {
  image: string
  attested: boolean
  verified: { where: string; key: string; predicateType: string } | undefined
  rejected: Rejection[]
  summary: string
}

function imageName(image: ImageAt): string {
  return `${image.registry}/${image.path}@${image.digest}`
}

/** Not-found and corrupt content are the signature's problem; anything else (auth, outage) is thrown. */
function contentProblem(error: unknown): string | undefined {
  if (error instanceof RegistryError && (error.status === 404 || error.registryCode === 'registry-digest-mismatch')) {
    return error.message
  }
  return undefined
}

async function readJson(client: RegistryClient, repo: RepositoryRef, digest: string): Promise<unknown> {
  const bytes = await client.getBlob(repo, digest)
  return JSON.parse(bytes.toString('utf8'))
}

function pick(record: unknown, key: string): unknown {
  if (typeof record !== 'object' || record === null) return undefined
  const entries = Object.entries(record as Record<string, unknown>)
  // Go's encoding/json (cosign) matches keys case-insensitively; the spec's own example writes Docker-manifest-digest.
  return entries.find(([k]) => k === key)?.[1] ?? entries.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1]
}

/** Why a simple-signing payload does not sign `digest`, or undefined when it does. */
export function simpleSigningProblem(payload: Buffer, digest: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload.toString('utf8'))
  } catch {
    return 'the signed payload is not JSON'
  }
  const critical = pick(parsed, 'critical')
  const type = pick(critical, 'type')
  if (type !== SIMPLE_SIGNING_TYPE)
    return `the signed payload's critical.type is ${JSON.stringify(type ?? null)}, not "${SIMPLE_SIGNING_TYPE}"`
  const named = pick(pick(critical, 'image'), 'docker-manifest-digest')
  if (typeof named !== 'string') return 'the signed payload names no critical.image.docker-manifest-digest'
  if (named !== digest) return `the signature is over another digest: its payload names ${named}`
  return undefined
}

/** The in-toto statement of a DSSE payload if it is about `digest`, else why not. */
function statementFor(
  payloadType: string,
  payload: Buffer,
  digest: string,
): { statement: Record<string, unknown> } | { problem: string } {
  if (payloadType !== IN_TOTO) return { problem: `payload type is ${payloadType}, not ${IN_TOTO}` }
  let statement: Record<string, unknown>
  try {
    statement = JSON.parse(payload.toString('utf8')) as Record<string, unknown>
  } catch {
    return { problem: 'the in-toto statement is not JSON' }
  }
  if (!IN_TOTO_STATEMENTS.has(String(statement._type))) {
    return { problem: `not an in-toto statement (_type ${JSON.stringify(statement._type ?? null)})` }
  }
  const [algorithm, hex] = digest.split(':')
  const subjects = Array.isArray(statement.subject) ? (statement.subject as { digest?: Record<string, string> }[]) : []
  if (!subjects.some((s) => algorithm !== undefined && s?.digest?.[algorithm] === hex)) {
    const named = subjects
      .map((s) =>
        Object.entries(s?.digest ?? {})
          .map(([a, h]) => `${a}:${h}`)
          .join(','),
      )
      .join('; ')
    return { problem: `the statement's subject does not include ${digest} (it names ${named || 'nothing'})` }
  }
  return { statement }
}

interface Found {
  where: string
  /** Simple-signing layer: payload blob + signature annotation. */
  simple?: { layer: Descriptor }
  /** DSSE envelope blob (.att layer, in-toto referrer layer). */
  envelope?: { layer: Descriptor }
  /** Sigstore bundle blob. */
  bundle?: { layer: Descriptor; predicateType: string | undefined }
}

/** The manifest under a tag, or undefined when the tag does not exist (one GET, no HEAD first). */
async function manifestIfTagged(
  client: RegistryClient,
  repo: RepositoryRef,
  reference: string,
): Promise<ManifestData | undefined> {
  try {
    return await client.getManifest(repo, reference)
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    throw error
  }
}

function layersOf(manifest: ManifestData): Descriptor[] {
  return manifest.parsed.layers ?? []
}

function artifactTypeOf(descriptor: Descriptor, manifest: ManifestData): string {
  return descriptor.artifactType ?? manifest.parsed.artifactType ?? manifest.parsed.config?.mediaType ?? ''
}

/** What the cosign tag (`.sig` or `.att`) of the digest holds. */
async function discoverTagged(
  client: RegistryClient,
  image: ImageAt,
  kind: 'signature' | 'attestation',
): Promise<{ found: Found[]; looked: string }> {
  const found: Found[] = []
  const tag = `${referrersTag(image.digest)}.${kind === 'signature' ? 'sig' : 'att'}`
  const tagged = await manifestIfTagged(client, image, tag)
  for (const [index, layer] of (tagged ? layersOf(tagged) : []).entries()) {
    const where = `${tag} layer ${index + 1}`
    if (kind === 'signature' && layer.mediaType === SIMPLE_SIGNING) found.push({ where, simple: { layer } })
    if (kind === 'attestation' && layer.mediaType === DSSE_ENVELOPE) found.push({ where, envelope: { layer } })
  }
  return { found, looked: `tag ${tag}` }
}

/** Signature- or attestation-like OCI referrers of the digest. */
async function discoverReferrers(
  client: RegistryClient,
  image: ImageAt,
  kind: 'signature' | 'attestation',
): Promise<{ found: Found[]; looked: string }> {
  const found: Found[] = []
  const referrers = await client.referrers(image, image.digest)
  const looked = referrers.via === 'api' ? 'OCI referrers API' : `OCI referrers (tag ${referrersTag(image.digest)})`
  for (const descriptor of referrers.descriptors) {
    const declared = descriptor.artifactType
    if (declared !== undefined && !isInteresting(declared)) continue
    let manifest: ManifestData
    try {
      manifest = await client.getManifest(image, descriptor.digest)
    } catch (error) {
      if (contentProblem(error)) continue
      throw error
    }
    const artifactType = artifactTypeOf(descriptor, manifest)
    const where = `referrer ${descriptor.digest}`
    const layers = layersOf(manifest)
    if (artifactType === COSIGN_SIG_ARTIFACT && kind === 'signature') {
      for (const layer of layers) if (layer.mediaType === SIMPLE_SIGNING) found.push({ where, simple: { layer } })
    } else if (artifactType === IN_TOTO && kind === 'attestation') {
      for (const layer of layers) if (layer.mediaType === DSSE_ENVELOPE) found.push({ where, envelope: { layer } })
    } else if (SIGSTORE_BUNDLE.test(artifactType)) {
      const predicateType =
        descriptor.annotations?.['dev.sigstore.bundle.predicateType'] ??
        (manifest.parsed as { annotations?: Record<string, string> }).annotations?.['dev.sigstore.bundle.predicateType']
      const isSign = predicateType === undefined ? undefined : predicateType === COSIGN_SIGN_PREDICATE
      if (isSign === undefined || isSign === (kind === 'signature')) {
        const layer = layers.find((l) => SIGSTORE_BUNDLE.test(l.mediaType))
        if (layer) found.push({ where, bundle: { layer, predicateType } })
      }
    }
  }
  return { found, looked }
}

function isInteresting(artifactType: string): boolean {
  return artifactType === COSIGN_SIG_ARTIFACT || artifactType === IN_TOTO || SIGSTORE_BUNDLE.test(artifactType)
}

type CandidateResult =
  | { ok: true; key: string; predicateType?: string }
  | { ok: false; reason: string }
  | { skip: true }

async function checkSimple(
  client: RegistryClient,
  image: ImageAt,
  layer: Descriptor,
  keys: readonly VerificationKey[],
): Promise<CandidateResult> {
  const signature = layer.annotations?.[SIGNATURE_ANNOTATION]
  if (!signature) return { ok: false, reason: `no ${SIGNATURE_ANNOTATION} annotation` }
  const payload = await client.getBlob(image, layer.digest)
  const problem = simpleSigningProblem(payload, image.digest)
  if (problem) return { ok: false, reason: problem }
  const result = await verifyMessageSignature(payload, signature, keys)
  if (result.ok) return { ok: true, key: result.key.label }
  const keyless = layer.annotations?.[CERTIFICATE_ANNOTATION]
    ? '; it carries a certificate (keyless signing), which is not supported, only public keys'
    : ''
  return { ok: false, reason: `${result.reason}${keyless}` }
}

async function checkDsse(
  payloadType: string,
  payload: Buffer,
  verified: { ok: true; key: VerificationKey } | { ok: false; reason: string },
  image: ImageAt,
  kind: 'signature' | 'attestation',
  policy: AttestationPolicy,
): Promise<CandidateResult> {
  const about = statementFor(payloadType, payload, image.digest)
  if ('problem' in about) return { ok: false, reason: about.problem }
  const predicateType = String(about.statement.predicateType ?? '')
  if (kind === 'signature') {
    if (predicateType !== COSIGN_SIGN_PREDICATE) return { skip: true }
  } else {
    if (predicateType === COSIGN_SIGN_PREDICATE) return { skip: true }
    const wanted = policy.predicateTypes ?? DEFAULT_PREDICATE_TYPES
    if (!wanted.includes(predicateType))
      return { ok: false, reason: `predicate type ${predicateType} is not one of ${wanted.join(', ')}` }
  }
  if (!verified.ok) return { ok: false, reason: verified.reason }
  if (kind === 'attestation') {
    const problem = checkPredicate(predicateType, about.statement.predicate, policy)
    if (problem) return { ok: false, reason: problem }
  }
  return { ok: true, key: verified.key.label, predicateType }
}

async function checkCandidate(
  client: RegistryClient,
  image: ImageAt,
  candidate: Found,
  keys: readonly VerificationKey[],
  kind: 'signature' | 'attestation',
  policy: AttestationPolicy,
): Promise<CandidateResult> {
  if (candidate.simple) return checkSimple(client, image, candidate.simple.layer, keys)
  if (candidate.envelope) {
    const envelope = (await readJson(client, image, candidate.envelope.layer.digest)) as EnvelopeJson
    const verified = await verifyEnvelope(envelope, keys)
    if (typeof envelope?.payloadType !== 'string' || typeof envelope.payload !== 'string') {
      return { ok: false, reason: 'not a DSSE envelope' }
    }
    return checkDsse(envelope.payloadType, Buffer.from(envelope.payload, 'base64'), verified, image, kind, policy)
  }
  if (candidate.bundle) {
    const result = await verifySigstoreBundle(await readJson(client, image, candidate.bundle.layer.digest), keys)
    if (!result.envelope) return { ok: false, reason: result.ok ? 'bundle has no DSSE envelope' : result.reason }
    const verified = result.ok ? { ok: true as const, key: result.key } : { ok: false as const, reason: result.reason }
    return checkDsse(result.envelope.payloadType, result.envelope.payload, verified, image, kind, policy)
  }
  return { skip: true }
}

async function run(
  client: RegistryClient,
  image: ImageAt,
  keys: readonly VerificationKey[],
  kind: 'signature' | 'attestation',
  policy: AttestationPolicy,
): Promise<{
  verified: { where: string; key: string; predicateType?: string } | undefined
  rejected: Rejection[]
  looked: string[]
}> {
  if (keys.length === 0) throw new Error('verify: no keys given')
  const rejected: Rejection[] = []
  const looked: string[] = []
  // The cosign tag first (where Chains writes); the referrers are only asked when it holds nothing that verifies.
  for (const discover of [discoverTagged, discoverReferrers]) {
    const { found, looked: where } = await discover(client, image, kind)
    looked.push(where)
    const verified = await firstVerified(client, image, found, keys, kind, policy, rejected)
    if (verified) return { verified, rejected, looked }
  }
  return { verified: undefined, rejected, looked }
}

async function firstVerified(
  client: RegistryClient,
  image: ImageAt,
  found: Found[],
  keys: readonly VerificationKey[],
  kind: 'signature' | 'attestation',
  policy: AttestationPolicy,
  rejected: Rejection[],
): Promise<{ where: string; key: string; predicateType?: string } | undefined> {
  for (const candidate of found) {
    let result: CandidateResult
    try {
      result = await checkCandidate(client, image, candidate, keys, kind, policy)
    } catch (error) {
      const problem = contentProblem(error) ?? (error instanceof SyntaxError ? 'not JSON' : undefined)
      if (!problem) throw error
      result = { ok: false, reason: problem }
    }
    if ('skip' in result) continue
    if (result.ok) {
      return {
        where: candidate.where,
        key: result.key,
        ...(result.predicateType ? { predicateType: result.predicateType } : {}),
      }
    }
    rejected.push({ where: candidate.where, reason: result.reason })
  }
  return undefined
}

function failureSummary(
  what: 'signature' | 'attestation',
  name: string,
  keys: readonly VerificationKey[],
  rejected: Rejection[],
  looked: string[],
): string {
  if (rejected.length === 0) return `${name} has no ${what} (looked in ${looked.join(' and ')})`
  const reasons = rejected.map((r) => `${r.where}: ${r.reason}`).join('; ')
  return `${name} has no ${what} that verifies with ${describeKeys(keys)} (${reasons})`
}

/** Whether `image` is signed by one of `keys`. */
export async function checkSignature(
  client: RegistryClient,
  image: ImageAt,
  keys: readonly VerificationKey[],
): Promise<SignatureCheck> {
  const name = imageName(image)
  const { verified, rejected, looked } = await run(client, image, keys, 'signature', {})
  return {
    image: name,
    signed: verified !== undefined,
    verified: verified && { where: verified.where, key: verified.key },
    rejected,
    summary: verified
      ? `${name} is signed (${verified.where}, key ${verified.key})`
      : failureSummary('signature', name, keys, rejected, looked),
  }
}

/** Whether `image` has a provenance attestation signed by one of `keys` that meets `policy`. */
export async function checkAttestation(
  client: RegistryClient,
  image: ImageAt,
  keys: readonly VerificationKey[],
  policy: AttestationPolicy = {},
): Promise<AttestationCheck> {
  const name = imageName(image)
  const { verified, rejected, looked } = await run(client, image, keys, 'attestation', policy)
  return {
    image: name,
    attested: verified !== undefined,
    verified: verified && { where: verified.where, key: verified.key, predicateType: verified.predicateType ?? '' },
    rejected,
    summary: verified
      ? `${name} has a ${verified.predicateType} attestation (${verified.where}, key ${verified.key})`
      : failureSummary('attestation', name, keys, rejected, looked),
  }
}
