/**
 * Retag and promotion built on RegistryClient. The tag PUT is the last write of every copy: when a tag points at
 * the digest, everything it needs (children, blobs, signatures, referrers) is already in place, so a re-run that
 * sees the tag in place can stop after one HEAD.
 */
import {
  blobDescriptors,
  childDescriptors,
  type ManifestData,
  type RegistryClient,
  type RepositoryRef,
  referrersTag,
} from './client.js'
import { type Descriptor, OCI_INDEX } from './media-types.js'

export interface CopySource extends RepositoryRef {
  readonly digest: string
}

export interface CopyOptions {
  /** Copy cosign `.sig`/`.att`/`.sbom` tags and OCI referrers along with a promotion (default true). */
  followArtifacts?: boolean
  /** Shared across copies so a digest released under several tags is read once. */
  manifestCache?: Map<string, Promise<ManifestData>>
  /**
   * `registry/path@digest` → when its content and followers were last copied there. A Snapshot releases one
   * digest under several tags of one repository (3 per component is common): the second and third tag then cost
   * the tag check and the PUT, not the content and follower checks again (7 requests, several round trips). The
   * caller bounds the map; an entry is only set after a copy that ended without error.
   */
  copiedTo?: Map<string, number>
  /**
   * How long a `copiedTo` entry is trusted (ms, default 10 s): long enough for the tags of one release, short
   * enough that a signature attached later (the releaser runs for days) is followed by the next release.
   */
  copiedTtlMs?: number
}

export interface CopyOutcome {
  status: 'moved' | 'unchanged'
  digest: string
  mediaType: string
  /** What the tag pointed at before (undefined: the tag did not exist). */
  previousDigest: string | undefined
  /** Signatures and attestations copied along: tags and referrer digests. */
  followed: string[]
}

const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const

function sameRepository(a: RepositoryRef, b: RepositoryRef): boolean {
  return a.registry === b.registry && a.path === b.path
}

function readManifest(
  client: RegistryClient,
  repo: RepositoryRef,
  digest: string,
  cache: Map<string, Promise<ManifestData>> | undefined,
  push: boolean,
): Promise<ManifestData> {
  const key = `${repo.registry}/${repo.path}@${digest}`
  let found = cache?.get(key)
  if (!found) {
    found = client.getManifest(repo, digest, { push })
    // A failed read must not poison the cache for the re-try.
    found.catch(() => cache?.delete(key))
    cache?.set(key, found)
  }
  return found
}

/** Copy a manifest by digest into `target` (children before the index, blobs before the manifest). */
async function ensureManifest(
  client: RegistryClient,
  source: RepositoryRef,
  target: RepositoryRef,
  digest: string,
  options: CopyOptions,
): Promise<ManifestData> {
  const manifest = await readManifest(client, source, digest, options.manifestCache, sameRepository(source, target))
  if (await client.headManifest(target, digest, { push: true })) return manifest
  await ensureContent(client, source, target, manifest, options)
  await client.putManifest(target, digest, manifest.bytes, manifest.mediaType)
  return manifest
}

async function ensureContent(
  client: RegistryClient,
  source: RepositoryRef,
  target: RepositoryRef,
  manifest: ManifestData,
  options: CopyOptions,
): Promise<void> {
  await Promise.all(
    childDescriptors(manifest).map((child) => ensureManifest(client, source, target, child.digest, options)),
  )
  await Promise.all(blobDescriptors(manifest).map((blob) => client.ensureBlob(target, source, blob)))
}

/** What a copy needs to know before writing: where the tag points now and, if it must move, the verified bytes. */
export interface CopyRead {
  source: CopySource
  target: RepositoryRef
  tag: string
  current: { digest: string; mediaType: string } | undefined
  /** Undefined when the tag already points at the digest. */
  manifest: ManifestData | undefined
}

/**
 * The read half of a copy (HEAD the tag; GET and verify the source when it must move). Reads can run ahead of the
 * previous copy's writes into the same repository; writes cannot.
 */
export async function readForCopy(
  client: RegistryClient,
  source: CopySource,
  target: RepositoryRef,
  tag: string,
  options: CopyOptions & { knownAbsent?: boolean } = {},
): Promise<CopyRead> {
  // knownAbsent: the caller has just seen the repository's tag list without this tag (see executeRetags).
  const current = options.knownAbsent ? undefined : await client.headManifest(target, tag, { push: true })
  if (current?.digest === source.digest) return { source, target, tag, current, manifest: undefined }
  const same = sameRepository(source, target)
  const manifest = await readManifest(client, source, source.digest, options.manifestCache, same)
  return { source, target, tag, current, manifest }
}

/** The write half: content and followers for another repository, then the tag PUT, always last. */
export async function writeCopy(
  client: RegistryClient,
  read: CopyRead,
  options: CopyOptions = {},
): Promise<CopyOutcome> {
  const { source, target, tag, current, manifest } = read
  if (!manifest) {
    return {
      status: 'unchanged',
      digest: source.digest,
      mediaType: current?.mediaType ?? '',
      previousDigest: current?.digest,
      followed: [],
    }
  }
  const followed: string[] = []
  if (!sameRepository(source, target)) followed.push(...(await copyAcross(client, source, target, manifest, options)))
  await client.putManifest(target, tag, manifest.bytes, manifest.mediaType)
  return {
    status: 'moved',
    digest: source.digest,
    mediaType: manifest.mediaType,
    previousDigest: current?.digest,
    followed,
  }
}

/** Content and followers of `source` into another repository, skipped when this caller copied them just now. */
async function copyAcross(
  client: RegistryClient,
  source: CopySource,
  target: RepositoryRef,
  manifest: ManifestData,
  options: CopyOptions,
): Promise<string[]> {
  const key = `${target.registry}/${target.path}@${source.digest}`
  const at = options.copiedTo?.get(key)
  if (at !== undefined && Date.now() - at < (options.copiedTtlMs ?? 10_000)) return []
  // Content and followers do not depend on each other (a signature tag or referrer names the digest, the registry
  // does not need its content first): both run at once, and only the tag PUT waits for both.
  // allSettled, not all: a failure of one half must not end the copy (and free the repository's lane) while the
  // other half still writes.
  const [content, follow] = await Promise.allSettled([
    (async () => {
      if (!(await client.headManifest(target, source.digest, { push: true }))) {
        await ensureContent(client, source, target, manifest, options)
      }
    })(),
    (options.followArtifacts ?? true) ? followArtifacts(client, source, target, options) : Promise.resolve([]),
  ])
  if (content.status === 'rejected') throw content.reason
  if (follow.status === 'rejected') throw follow.reason
  const followed = follow.value
  if (options.copiedTo) {
    options.copiedTo.delete(key)
    if (options.copiedTo.size >= 4096) options.copiedTo.delete(options.copiedTo.keys().next().value!)
    options.copiedTo.set(key, Date.now())
  }
  return followed
}

/**
 * Point `target:tag` at `source@digest`. Same repository: HEAD the tag, skip when in place, else GET the verified
 * bytes and PUT them under the tag. Another repository: also copy children, blobs (mounted when possible) and the
 * signatures and referrers of the digest first.
 */
export async function copyToTag(
  client: RegistryClient,
  source: CopySource,
  target: RepositoryRef,
  tag: string,
  options: CopyOptions = {},
): Promise<CopyOutcome> {
  return writeCopy(client, await readForCopy(client, source, target, tag, options), options)
}

/** cosign's tag convention and OCI referrers (API or fallback tag) follow an image into another repository. */
async function followArtifacts(
  client: RegistryClient,
  source: CopySource,
  target: RepositoryRef,
  options: CopyOptions,
): Promise<string[]> {
  const followed: string[] = []
  const base = referrersTag(source.digest)
  // The referrers lookup runs alongside the cosign tags (it reads only): one round trip less per copy.
  const referring = client.referrers(source, source.digest)
  referring.catch(() => {}) // awaited below
  await Promise.all(
    COSIGN_SUFFIXES.map(async (suffix) => {
      const tag = `${base}.${suffix}`
      const found = await client.headManifest(source, tag)
      if (!found) return
      const there = await client.headManifest(target, tag, { push: true })
      if (there?.digest === found.digest) return
      const manifest = await ensureManifest(client, source, target, found.digest, options)
      await client.putManifest(target, tag, manifest.bytes, manifest.mediaType)
      followed.push(tag)
    }),
  )

  const referrers = await referring
  if (referrers.descriptors.length === 0) return followed
  for (const descriptor of referrers.descriptors) {
    await ensureManifest(client, source, target, descriptor.digest, options)
    followed.push(descriptor.digest)
  }
  // Without a referrers API on the target, clients find referrers through the fallback tag: merge ours into it.
  if (referrers.via === 'tag' || !(await client.hasReferrersApi(target, source.digest))) {
    const existing = (await client.headManifest(target, base, { push: true }))
      ? await client.getManifest(target, base, { push: true })
      : undefined
    const merged: Descriptor[] = [...(existing?.parsed.manifests ?? [])]
    let changed = false
    for (const descriptor of referrers.descriptors) {
      if (!merged.some((d) => d.digest === descriptor.digest)) {
        merged.push(descriptor)
        changed = true
      }
    }
    if (changed) {
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: merged }))
      await client.putManifest(target, base, index, OCI_INDEX)
      followed.push(base)
    }
  }
  return followed
}
