/**
 * Public keys a signature may verify against. Cosign key pairs and Tekton Chains' signing secret publish the key as
 * a PEM SubjectPublicKeyInfo ("PUBLIC KEY"); RSA keys may also come as PKCS#1 ("RSA PUBLIC KEY"). One file may hold
 * several keys (rotation: old and new key side by side), and several files may be given.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { VerifyKeyError } from './errors.js'

export type KeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa'

export interface VerificationKey {
  /** `cosign.pub`, or `keys.pem#2` for the second key of a file. */
  label: string
  /** The file it came from (as given). */
  source: string
  kind: KeyKind
  key: KeyObject
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g
const CURVES: Record<string, KeyKind> = { prime256v1: 'ecdsa-p256', secp384r1: 'ecdsa-p384', secp521r1: 'ecdsa-p521' }

function keyKind(key: KeyObject, label: string): KeyKind {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new VerifyKeyError(`${label}: RSA key of ${bits} bits is too weak to trust (2048 or more)`)
    return 'rsa'
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? ''
    const kind = CURVES[curve]
    if (kind) return kind
    throw new VerifyKeyError(`${label}: elliptic curve ${curve || 'unknown'} is not one cosign signs with`)
  }
  throw new VerifyKeyError(`${label}: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported`)
}

/** Every public key in PEM text; `source` names the file in messages. Throws VerifyKeyError (exit 2). */
export function parseVerificationKeys(text: string, source: string): VerificationKey[] {
  const blocks = [...text.matchAll(PEM_BLOCK)]
  if (blocks.length === 0) throw new VerifyKeyError(`${source}: no PEM block found; expected a public key`)
  const keys: VerificationKey[] = []
  for (const [index, block] of blocks.entries()) {
    const type = block[1] ?? ''
    const label = blocks.length === 1 ? source : `${source}#${index + 1}`
    if (type.includes('PRIVATE')) {
      throw new VerifyKeyError(`${label}: this is a private key (${type}); verification needs only the public key`, {
        hint: 'Give the public half (cosign.pub, or `cosign public-key --key cosign.key`); keep the private key out of the GitOps repo.',
      })
    }
    if (type === 'CERTIFICATE') {
      throw new VerifyKeyError(`${label}: certificates (keyless signing) are not supported, only public keys`, {
        hint: 'Keyless verification (Fulcio certificates, Rekor) is not implemented; give the public key Chains signs with.',
      })
    }
    if (type !== 'PUBLIC KEY' && type !== 'RSA PUBLIC KEY') {
      throw new VerifyKeyError(`${label}: PEM block "${type}" is not a public key`)
    }
    let key: KeyObject
    try {
      key = createPublicKey(block[0])
    } catch (error) {
      throw new VerifyKeyError(`${label}: not a readable public key (${(error as Error).message})`)
    }
    keys.push({ label, source, kind: keyKind(key, label), key })
  }
  return keys
}

/** An entry of konflux-gitops.yaml's verify.keys written as the PEM text itself (what `init --verify-key` records). */
export function isInlineKey(entry: string): boolean {
  return entry.trimStart().startsWith('-----BEGIN')
}

/**
 * The keys a GitOps repo command checks against: konflux-gitops.yaml's verify.keys (inline PEM, or paths relative to
 * the repository) and the command's --verify-key files (relative to the working directory). The one place that says
 * how verify.keys entries are read, for validate, render, promote and doctor.
 */
export function repoKeySources(
  repoDir: string,
  specKeys: readonly string[] | undefined,
  flagFiles: readonly string[] = [],
): string[] {
  return [...(specKeys ?? []).map((k) => (isInlineKey(k) ? k : resolve(repoDir, k))), ...flagFiles]
}

/**
 * Read and parse key files (relative to `dir`); the same key given twice counts once. An entry that is PEM text
 * itself (inline in konflux-gitops.yaml) is parsed as it is and named `inlineLabel#N`.
 */
export async function loadVerificationKeys(
  files: readonly string[],
  dir = process.cwd(),
  inlineLabel = 'verify.keys',
): Promise<VerificationKey[]> {
  const keys: VerificationKey[] = []
  const seen = new Set<string>()
  for (const [index, file] of files.entries()) {
    let text: string
    if (isInlineKey(file)) {
      for (const key of parseVerificationKeys(file, `${inlineLabel}[${index}]`)) {
        const der = key.key.export({ type: 'spki', format: 'der' }).toString('base64')
        if (!seen.has(der)) keys.push(key)
        seen.add(der)
      }
      continue
    }
    try {
      text = await readFile(resolve(dir, file), 'utf8')
    } catch (error) {
      throw new VerifyKeyError(
        `${file}: cannot read the key file (${(error as NodeJS.ErrnoException).code ?? error})`,
        {
          code: 'verify-key-unreadable',
          hint: 'Check the path given to --verify-key or in verify.keys of konflux-gitops.yaml.',
        },
      )
    }
    for (const key of parseVerificationKeys(text, file)) {
      const der = key.key.export({ type: 'spki', format: 'der' }).toString('base64')
      if (seen.has(der)) continue
      seen.add(der)
      keys.push(key)
    }
  }
  return keys
}
