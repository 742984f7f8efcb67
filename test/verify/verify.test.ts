import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRegistryClient, type RegistryClient } from '../../src/registry/index.js'
import {
  checkAttestation,
  checkSignature,
  loadVerificationKeys,
  parseVerificationKeys,
  type VerificationKey,
  VerifyKeyError,
} from '../../src/verify/index.js'
import {
  attestBundle,
  attestImage,
  COSIGN,
  chainsProvenance,
  generateKeyPair,
  signImage,
  signReferrer,
  type TestKeyPair,
} from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'

const REVISION = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'

describe('verify signatures and attestations against docker-registry', () => {
  let reg: TestRegistry
  let client: RegistryClient
  let konflux: TestKeyPair
  let rsa: TestKeyPair
  let stranger: TestKeyPair
  let keys: VerificationKey[]

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' })
    client = createRegistryClient({ ca: reg.caPem ?? '', dockerConfigPath: reg.dockerConfigPath })
    konflux = generateKeyPair('ecdsa-p256')
    rsa = generateKeyPair('rsa')
    stranger = generateKeyPair('ecdsa-p256')
    keys = [
      ...parseVerificationKeys(konflux.publicPem, 'cosign.pub'),
      ...parseVerificationKeys(rsa.publicPem, 'rsa.pub'),
    ]
  })
  afterAll(async () => {
    await client?.close()
    await reg?.stop()
  })

  const at = (path: string, digest: string) => ({ registry: reg.host, path, digest })

  test('an image signed by cosign with the key (.sig tag) is signed; the same image unsigned is not', async () => {
    const signed = await reg.pushImage('acme/api', 'b1')
    const unsigned = await reg.pushImage('acme/api', 'b2')
    await signImage(reg, 'acme/api', signed, konflux)
    const ok = await checkSignature(client, at('acme/api', signed), keys)
    expect(ok).toMatchObject({ signed: true, verified: { key: 'cosign.pub' } })
    expect(ok.verified?.where).toMatch(/^sha256-[0-9a-f]{64}\.sig layer 1$/)
    const missing = await checkSignature(client, at('acme/api', unsigned), keys)
    expect(missing.signed).toBe(false)
    expect(missing.rejected).toEqual([])
    expect(missing.summary).toContain(`acme/api@${unsigned} has no signature`)
    expect(missing.summary).toContain(`${unsigned.replace(':', '-')}.sig`)
  })

  test('a signature over another digest, by another key, or tampered does not count', async () => {
    const other = await reg.pushImage('acme/api', 'o1')
    const image = await reg.pushImage('acme/api', 'o2')
    await signImage(reg, 'acme/api', image, konflux, { payloadDigest: other })
    let check = await checkSignature(client, at('acme/api', image), keys)
    expect(check.signed).toBe(false)
    expect(check.rejected[0]?.reason).toBe(`the signature is over another digest: its payload names ${other}`)

    await signImage(reg, 'acme/api', image, stranger)
    await signImage(reg, 'acme/api', image, konflux, { tamper: true })
    check = await checkSignature(client, at('acme/api', image), keys)
    expect(check.signed).toBe(false)
    expect(check.rejected.map((r) => r.reason)).toEqual([
      `the signature is over another digest: its payload names ${other}`,
      'signature does not verify with any of the keys cosign.pub, rsa.pub',
      'signature does not verify with any of the keys cosign.pub, rsa.pub',
    ])
    // Appended by the right key later (cosign adds a layer to the same .sig image): now signed.
    await signImage(reg, 'acme/api', image, konflux)
    check = await checkSignature(client, at('acme/api', image), keys)
    expect(check).toMatchObject({ signed: true, verified: { key: 'cosign.pub' } })
    expect(check.verified?.where).toMatch(/layer 4$/)
  })

  test('RSA keys verify; key rotation: a signature by either of two keys counts', async () => {
    const image = await reg.pushImage('acme/rsa', 'b1')
    await signImage(reg, 'acme/rsa', image, rsa)
    expect(await checkSignature(client, at('acme/rsa', image), keys)).toMatchObject({
      signed: true,
      verified: { key: 'rsa.pub' },
    })
    const onlyKonflux = keys.filter((k) => k.label === 'cosign.pub')
    expect((await checkSignature(client, at('acme/rsa', image), onlyKonflux)).signed).toBe(false)
  })

  test('a signed index is verified by its index digest, not by a platform manifest', async () => {
    const index = await reg.pushImage('acme/web', 'b1', { platforms: ['linux/amd64', 'linux/arm64'] })
    expect((await checkSignature(client, at('acme/web', index), keys)).signed).toBe(false)
    await signImage(reg, 'acme/web', index, konflux)
    expect((await checkSignature(client, at('acme/web', index), keys)).signed).toBe(true)
    const child = JSON.parse((await reg.getManifest('acme/web', index))?.bytes.toString('utf8') ?? '{}').manifests[0]
      .digest as string
    expect((await checkSignature(client, at('acme/web', child), keys)).signed).toBe(false)
  })

  test('signatures found through OCI referrers: cosign OCI 1.1 signatures and Sigstore bundles', async () => {
    const a = await reg.pushImage('acme/ref', 'a')
    const b = await reg.pushImage('acme/ref', 'b')
    await reg.pushReferrer('acme/ref', a) // an SBOM referrer is ignored
    await signReferrer(reg, 'acme/ref', a, konflux, 'oci-sig')
    const viaSig = await checkSignature(client, at('acme/ref', a), keys)
    expect(viaSig).toMatchObject({ signed: true, verified: { key: 'cosign.pub' } })
    expect(viaSig.verified?.where).toMatch(/^referrer sha256:/)

    await signReferrer(reg, 'acme/ref', b, stranger, 'bundle')
    expect((await checkSignature(client, at('acme/ref', b), keys)).rejected[0]?.reason).toMatch(/does not verify/)
    await signReferrer(reg, 'acme/ref', b, konflux, 'bundle', { subjectDigest: a })
    const wrongSubject = await checkSignature(client, at('acme/ref', b), keys)
    expect(wrongSubject.rejected[1]?.reason).toContain(`subject does not include ${b}`)
    await signReferrer(reg, 'acme/ref', b, konflux, 'bundle')
    expect((await checkSignature(client, at('acme/ref', b), keys)).signed).toBe(true)
  })

  test('attestations: DSSE signature, in-toto subject and the predicate policy', async () => {
    const image = await reg.pushImage('acme/att', 'b1')
    const other = await reg.pushImage('acme/att', 'b2')
    const none = await checkAttestation(client, at('acme/att', image), keys)
    expect(none.attested).toBe(false)
    expect(none.summary).toContain('has no attestation')

    await attestImage(reg, 'acme/att', image, konflux, { predicate: chainsProvenance(REVISION), subjectDigest: other })
    let check = await checkAttestation(client, at('acme/att', image), keys, { sourceRevision: REVISION })
    expect(check.attested).toBe(false)
    expect(check.rejected[0]?.reason).toContain(`subject does not include ${image}`)

    await attestImage(reg, 'acme/att', image, stranger, { predicate: chainsProvenance(REVISION) })
    await attestImage(reg, 'acme/att', image, konflux, { predicate: chainsProvenance('0'.repeat(40)) })
    check = await checkAttestation(client, at('acme/att', image), keys, { sourceRevision: REVISION })
    expect(check.rejected.map((r) => r.reason)).toEqual([
      expect.stringContaining('subject does not include'),
      'no signature of the DSSE envelope verifies with any of the keys cosign.pub, rsa.pub',
      expect.stringContaining(`does not list source commit ${REVISION}`),
    ])

    await attestImage(reg, 'acme/att', image, konflux, { predicate: chainsProvenance(REVISION) })
    check = await checkAttestation(client, at('acme/att', image), keys, {
      sourceRevision: REVISION,
      builderId: 'https://tekton.dev/chains/v2',
    })
    expect(check).toMatchObject({ attested: true, verified: { key: 'cosign.pub', predicateType: COSIGN.slsaV02 } })
    const wrongBuilder = await checkAttestation(client, at('acme/att', image), keys, {
      builderId: 'https://evil.example/b',
    })
    expect(wrongBuilder.attested).toBe(false)
    expect(wrongBuilder.rejected.at(-1)?.reason).toBe(
      'builder id is "https://tekton.dev/chains/v2", expected https://evil.example/b',
    )
    // An attestation is not a signature, and a signature is not an attestation.
    expect((await checkSignature(client, at('acme/att', image), keys)).signed).toBe(false)
  })

  test('SLSA v1 provenance in a Sigstore bundle referrer', async () => {
    const image = await reg.pushImage('acme/att', 'v1')
    await attestBundle(reg, 'acme/att', image, konflux, COSIGN.slsaV1, {
      buildDefinition: {
        resolvedDependencies: [{ uri: 'git+https://github.com/acme/api', digest: { gitCommit: REVISION } }],
      },
      runDetails: { builder: { id: 'https://tekton.dev/chains/v2' } },
    })
    const check = await checkAttestation(client, at('acme/att', image), keys, {
      sourceRevision: REVISION,
      builderId: 'https://tekton.dev/chains/v2',
    })
    expect(check).toMatchObject({ attested: true, verified: { predicateType: COSIGN.slsaV1 } })
  })

  test('a keyless signature (certificate annotation) is refused and says keyless is not supported', async () => {
    const image = await reg.pushImage('acme/keyless', 'b1')
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    await signImage(reg, 'acme/keyless', image, stranger, { certificatePem: cert })
    const check = await checkSignature(client, at('acme/keyless', image), keys)
    expect(check.signed).toBe(false)
    expect(check.summary).toContain('keyless signing), which is not supported')
  })
})

describe('verification keys', () => {
  test("Konflux's Chains public key PEM (cosign.pub) loads; several keys in one file for rotation", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kg-keys-'))
    const a = generateKeyPair()
    const b = generateKeyPair('rsa')
    // As published for Konflux's Tekton Chains (signing-secrets cosign.pub): a PEM SubjectPublicKeyInfo.
    await writeFile(join(dir, 'konflux.pub'), a.publicPem)
    // Old and new key in one file, as a Kubernetes secret or a Windows editor may write it (CRLF).
    await writeFile(
      join(dir, 'rotation.pem'),
      `# old key\r\n${a.publicPem}\n# new key\n${b.publicPem}`.replaceAll('\n', '\r\n'),
    )
    const keys = await loadVerificationKeys(['konflux.pub', 'rotation.pem'], dir)
    expect(keys.map((k) => [k.label, k.kind])).toEqual([
      ['konflux.pub', 'ecdsa-p256'],
      ['rotation.pem#2', 'rsa'],
    ])
  })

  test('a private key, a certificate, garbage, a missing file are refused naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kg-keys-'))
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    await writeFile(join(dir, 'cosign.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
    await writeFile(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    await writeFile(join(dir, 'junk.pub'), 'not a key')
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' })
    await writeFile(join(dir, 'weak.pub'), weak)
    const load = (file: string) => loadVerificationKeys([file], dir)
    await expect(load('cosign.key')).rejects.toThrow(/cosign.key: this is a private key/)
    await expect(load('cert.pem')).rejects.toThrow(/keyless signing\) are not supported/)
    await expect(load('junk.pub')).rejects.toThrow(/junk.pub: no PEM block/)
    await expect(load('weak.pub')).rejects.toThrow(/1024 bits is too weak/)
    await expect(load('absent.pub')).rejects.toMatchObject({ code: 'verify-key-unreadable', exit: 2 })
    await expect(load('junk.pub')).rejects.toBeInstanceOf(VerifyKeyError)
  })
})
