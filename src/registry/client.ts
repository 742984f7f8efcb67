import { createHash } from 'node:crypto'
import type { ImageRef } from '../image-ref/index.js'
import { parseImageRef } from '../image-ref/index.js'
import { RegistryError } from './errors.js'
import {
  type Descriptor,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  manifestMediaType,
  OCI_INDEX,
  type ParsedManifest,
} from './media-types.js'
import { type Access, Transport, type TransportOptions } from './transport.js'

export type RegistryClientOptions = TransportOptions

/** A repository on a registry: `{ registry: 'quay.io', path: 'acme/shop/api' }` (an ImageRef fits). */
export interface RepositoryRef {
  readonly registry: string
  readonly path: string
}

export interface ResolvedManifest {
  digest: string
  mediaType: string
  size: number | undefined
}

export interface ManifestData {
  digest: string
  mediaType: string
  /** The exact bytes the registry stored: re-PUT these, never a re-serialisation, or the digest changes. */
  bytes: Buffer
  parsed: ParsedManifest
}

export interface ReferrerList {
  descriptors: Descriptor[]
  /** `api`: the registry serves /referrers; `tag`: the OCI fallback tag `sha256-<hex>`; `none`: neither found. */
  via: 'api' | 'tag' | 'none'
}

/** Manifests are small (the OCI spec's limit is 4 MiB); refuse bigger bodies instead of buffering them. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const DIGEST_READ_ATTEMPTS = 4

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** Tags cannot contain ':', digests always do. */
function isDigest(reference: string): boolean {
  return reference.includes(':')
}

const MAX_TAG_PAGES = 10_000

/** The path and query of a `Link: <url>; rel="next"` header (absolute or relative URL), if there is one. */
export function nextPage(link: string | undefined): string | undefined {
  if (!link) return undefined
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;(?:[^;]*;)*\s*rel="?next"?/i.exec(part.trim())
    if (match) {
      const url = new URL(match[1]!, 'http://registry.invalid')
      return `${url.pathname}${url.search}`
    }
  }
  return undefined
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function pull(repository: string, push = false): Access {
  // Asking for push with the first read of a target means one token covers HEAD, GET and PUT.
  return { repository, actions: push ? ['pull', 'push'] : ['pull'] }
}

/** `sha256:abc…` → the OCI referrers fallback tag `sha256-abc…`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-')
}

/**
 * A thin OCI Distribution client: manifests by exact bytes, blobs with cross-repository mount, referrers with the
 * fallback tag. Auth, retries, keep-alive and the per-registry concurrency limit live in Transport.
 */
export class RegistryClient {
  readonly transport: Transport

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new Transport(options)
  }

  /**
   * The digest a reference points at, by HEAD: for a multi-arch image the index digest, never a platform's.
   * A reference with a digest is checked to exist. Throws RegistryError (registry-not-found) when absent.
   */
  async resolveDigest(reference: string | ImageRef): Promise<ResolvedManifest> {
    const ref = typeof reference === 'string' ? parseImageRef(reference) : reference
    const target = ref.digest ?? ref.tag ?? 'latest'
    const found = await this.headManifest(ref, target)
    if (!found) {
      throw new RegistryError(`${ref.registry}/${ref.path}:${target} not found`, {
        status: 404,
        code: 'registry-not-found',
        hint: 'Check the repository name and tag, and that your credentials can read it.',
      })
    }
    return found
  }

  async manifestExists(reference: string | ImageRef): Promise<boolean> {
    const ref = typeof reference === 'string' ? parseImageRef(reference) : reference
    return (await this.headManifest(ref, ref.digest ?? ref.tag ?? 'latest')) !== undefined
  }

  /** HEAD a manifest by tag or digest; undefined when it does not exist. */
  async headManifest(
    repo: RepositoryRef,
    reference: string,
    options: { push?: boolean } = {},
  ): Promise<ResolvedManifest | undefined> {
    const res = await this.transport.send(repo.registry, 'HEAD', `/v2/${repo.path}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      access: [pull(repo.path, options.push)],
      accept: [404],
    })
    await res.body.dump()
    if (res.status === 404) return undefined
    const digest = headerValue(res.headers, 'docker-content-digest')
    const contentType = headerValue(res.headers, 'content-type')?.split(';')[0]?.trim()
    const length = headerValue(res.headers, 'content-length')
    if (digest && contentType) {
      return { digest, mediaType: contentType, size: length === undefined ? undefined : Number(length) }
    }
    // Some registries omit Docker-Content-Digest on HEAD: the body is the only trustworthy source.
    const data = await this.getManifest(repo, reference, options)
    return { digest: data.digest, mediaType: data.mediaType, size: data.bytes.length }
  }

  /**
   * GET a manifest and keep its exact bytes. By digest, sha256(body) must equal it; by tag, it must equal the
   * Docker-Content-Digest header when sent. A mismatch is read again, then refused: never PUT unverified bytes.
   */
  async getManifest(repo: RepositoryRef, reference: string, options: { push?: boolean } = {}): Promise<ManifestData> {
    const byDigest = isDigest(reference)
    let lastProblem = ''
    for (let attempt = 0; attempt < DIGEST_READ_ATTEMPTS; attempt++) {
      const res = await this.transport.send(repo.registry, 'GET', `/v2/${repo.path}/manifests/${reference}`, {
        headers: { accept: MANIFEST_ACCEPT },
        access: [pull(repo.path, options.push)],
        accept: [404],
      })
      if (res.status === 404) {
        await res.body.dump()
        throw new RegistryError(`${repo.registry}/${repo.path}${byDigest ? '@' : ':'}${reference} not found`, {
          status: 404,
          code: 'registry-not-found',
          hint: 'Check the repository and digest; the image may have been garbage-collected or never pushed.',
        })
      }
      const declared = Number(headerValue(res.headers, 'content-length') ?? '0')
      if (declared > MAX_MANIFEST_BYTES) {
        await res.body.dump()
        throw new RegistryError(`${repo.registry}/${repo.path}:${reference}: manifest is ${declared} bytes (> 4 MiB)`)
      }
      const bytes = Buffer.from(await res.body.arrayBuffer())
      const digest = sha256Digest(bytes)
      const expected = byDigest ? reference : headerValue(res.headers, 'docker-content-digest')
      if (expected !== undefined && expected !== digest) {
        lastProblem = `body hashes to ${digest}, expected ${expected}`
        continue
      }
      let parsed: ParsedManifest
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as ParsedManifest
      } catch {
        lastProblem = 'body is not JSON'
        if (!byDigest) continue
        throw new RegistryError(`${repo.registry}/${repo.path}@${reference}: manifest is not JSON`)
      }
      return { digest, mediaType: manifestMediaType(parsed, headerValue(res.headers, 'content-type')), bytes, parsed }
    }
    throw new RegistryError(
      `${repo.registry}/${repo.path}${byDigest ? '@' : ':'}${reference}: manifest read ${DIGEST_READ_ATTEMPTS} times, never verified (${lastProblem}); nothing was written`,
      {
        code: 'registry-digest-mismatch',
        hint: 'The registry returned corrupt or changing content; run the command again later.',
      },
    )
  }

  /** PUT exact bytes under a tag or digest; checks that the registry stored the digest we computed. */
  async putManifest(repo: RepositoryRef, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes)
    const res = await this.transport.send(repo.registry, 'PUT', `/v2/${repo.path}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: bytes,
      access: [pull(repo.path, true)],
    })
    await res.body.dump()
    const stored = headerValue(res.headers, 'docker-content-digest')
    if (stored !== undefined && stored !== digest) {
      throw new RegistryError(
        `${repo.registry}/${repo.path}:${reference}: registry stored ${stored} for a manifest whose digest is ${digest}`,
        {
          code: 'registry-digest-mismatch',
          retryable: false,
          hint: 'The registry rewrote the manifest (an old registry converting media types?); the tag now points at a different digest.',
        },
      )
    }
    return digest
  }

  async blobExists(repo: RepositoryRef, digest: string, options: { push?: boolean } = {}): Promise<boolean> {
    const res = await this.transport.send(repo.registry, 'HEAD', `/v2/${repo.path}/blobs/${digest}`, {
      access: [pull(repo.path, options.push)],
      accept: [404],
    })
    await res.body.dump()
    return res.status !== 404
  }

  /** A small blob (an image config), verified against its digest. */
  async getBlob(repo: RepositoryRef, digest: string): Promise<Buffer> {
    const res = await this.transport.send(repo.registry, 'GET', `/v2/${repo.path}/blobs/${digest}`, {
      access: [pull(repo.path)],
    })
    const declared = Number(headerValue(res.headers, 'content-length') ?? '0')
    if (declared > MAX_MANIFEST_BYTES) {
      await res.body.dump()
      throw new RegistryError(
        `${repo.registry}/${repo.path}@${digest}: blob is ${declared} bytes, too big to read here`,
      )
    }
    const bytes = Buffer.from(await res.body.arrayBuffer())
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(`${repo.registry}/${repo.path}@${digest}: blob content does not match its digest`, {
        code: 'registry-digest-mismatch',
      })
    }
    return bytes
  }

  /**
   * Make a blob present in `target`: already there, mounted from `from` (same registry), or streamed across when the
   * registry declines the mount (202) or the source is another registry.
   */
  async ensureBlob(
    target: RepositoryRef,
    from: RepositoryRef,
    blob: { digest: string; size?: number },
  ): Promise<'present' | 'mounted' | 'copied'> {
    // Same registry: ask for the mount straight away. A mount of a blob the repository already has answers 201
    // too, so the HEAD that used to come first only cost a round trip (50 ms to a remote registry, per blob).
    if (from.registry !== target.registry && (await this.blobExists(target, blob.digest, { push: true }))) {
      return 'present'
    }
    if (from.registry === target.registry) {
      const mountPath = `/v2/${target.path}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from.path)}`
      const res = await this.transport.send(target.registry, 'POST', mountPath, {
        access: [pull(target.path, true), pull(from.path)],
      })
      await res.body.dump()
      if (res.status === 201) return 'mounted'
      const location = headerValue(res.headers, 'location')
      if (res.status === 202 && location) {
        // The registry opened an upload instead of mounting: cancel it and upload the bytes ourselves.
        const cancel = await this.transport.send(target.registry, 'DELETE', this.absolute(target, location), {
          access: [pull(target.path, true)],
          accept: [404, 405],
        })
        await cancel.body.dump()
      }
      if (await this.blobExists(target, blob.digest, { push: true })) return 'present'
    }
    await this.copyBlob(from, target, blob)
    return 'copied'
  }

  private absolute(repo: RepositoryRef, location: string): string {
    return new URL(location, `${this.transport.origin(repo.registry)}/`).toString()
  }

  /** Stream a blob from one repository into another without holding it in memory. */
  private async copyBlob(from: RepositoryRef, target: RepositoryRef, blob: { digest: string; size?: number }) {
    let lastError: unknown
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const source = await this.transport.send(from.registry, 'GET', `/v2/${from.path}/blobs/${blob.digest}`, {
          access: [pull(from.path)],
        })
        const length =
          headerValue(source.headers, 'content-length') ?? (blob.size === undefined ? undefined : String(blob.size))
        const start = await this.transport.send(target.registry, 'POST', `/v2/${target.path}/blobs/uploads/`, {
          access: [pull(target.path, true)],
        })
        await start.body.dump()
        const location = headerValue(start.headers, 'location')
        if (start.status !== 202 || !location) {
          await source.body.dump()
          throw new RegistryError(`${target.registry}/${target.path}: blob upload did not start (HTTP ${start.status})`)
        }
        const url = new URL(this.absolute(target, location))
        url.searchParams.set('digest', blob.digest)
        const put = await this.transport.send(target.registry, 'PUT', url.toString(), {
          headers: {
            'content-type': 'application/octet-stream',
            ...(length === undefined ? {} : { 'content-length': length }),
          },
          body: source.body,
          access: [pull(target.path, true)],
          once: true,
        })
        await put.body.dump()
        return
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }

  /**
   * Every tag of a repository: `GET /v2/<name>/tags/list`, following the `Link: <…>; rel="next"` pages the
   * distribution spec defines (registries page at 50 to 1000 tags). A repository that does not exist has no tags.
   */
  async listTags(repo: RepositoryRef, options: { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = []
    const seen = new Set<string>()
    let path: string | undefined = `/v2/${repo.path}/tags/list?n=${options.pageSize ?? 1000}`
    for (let page = 0; path !== undefined; page++) {
      if (page >= MAX_TAG_PAGES) {
        throw new RegistryError(`${repo.registry}/${repo.path}: more than ${MAX_TAG_PAGES} pages of tags`, {
          code: 'registry-error',
        })
      }
      const res = await this.transport.send(repo.registry, 'GET', path, {
        headers: { accept: 'application/json' },
        access: [pull(repo.path)],
        accept: [404],
      })
      if (res.status === 404) {
        await res.body.dump()
        return tags
      }
      const body = (await res.body.json().catch(() => undefined)) as { tags?: unknown } | undefined
      if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) {
        throw new RegistryError(`${repo.registry}/${repo.path}: the tag list is not {"tags": [...]}`, {
          code: 'registry-error',
        })
      }
      for (const tag of (body.tags ?? []) as unknown[]) {
        if (typeof tag === 'string' && !seen.has(tag)) {
          seen.add(tag)
          tags.push(tag)
        }
      }
      path = nextPage(headerValue(res.headers, 'link'))
    }
    return tags
  }

  /**
   * The repository's tags when one page of `limit` holds them all; undefined when there are more (a registry that
   * pages smaller, or a big repository): the caller then cannot tell from it that a tag is absent.
   */
  async tagsIfFew(repo: RepositoryRef, limit = 1000): Promise<Set<string> | undefined> {
    const res = await this.transport.send(repo.registry, 'GET', `/v2/${repo.path}/tags/list?n=${limit}`, {
      headers: { accept: 'application/json' },
      access: [pull(repo.path, true)],
      accept: [404],
    })
    if (res.status === 404) {
      await res.body.dump()
      return new Set()
    }
    const body = (await res.body.json().catch(() => undefined)) as { tags?: unknown } | undefined
    if (nextPage(headerValue(res.headers, 'link')) !== undefined) return undefined
    if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) return undefined
    const tags = ((body.tags ?? []) as unknown[]).filter((t): t is string => typeof t === 'string')
    return tags.length >= limit ? undefined : new Set(tags)
  }

  /**
   * Referrers of a manifest: the referrers API when the registry has it, else the OCI fallback tag `sha256-<hex>`.
   */
  async referrers(repo: RepositoryRef, digest: string): Promise<ReferrerList> {
    const res = await this.transport.send(repo.registry, 'GET', `/v2/${repo.path}/referrers/${digest}`, {
      headers: { accept: OCI_INDEX },
      access: [pull(repo.path)],
      accept: [400, 404, 405],
    })
    const contentType = headerValue(res.headers, 'content-type') ?? ''
    if (res.status === 200 && contentType.startsWith(OCI_INDEX)) {
      const index = (await res.body.json()) as { manifests?: Descriptor[] }
      return { descriptors: index.manifests ?? [], via: 'api' }
    }
    await res.body.dump()
    const head = await this.headManifest(repo, referrersTag(digest))
    if (!head) return { descriptors: [], via: 'none' }
    const index = await this.getManifest(repo, referrersTag(digest))
    return { descriptors: index.parsed.manifests ?? [], via: 'tag' }
  }

  /** Whether the registry serves the referrers API (cheap probe with a digest that has no referrers). */
  async hasReferrersApi(repo: RepositoryRef, digest: string): Promise<boolean> {
    const res = await this.transport.send(repo.registry, 'GET', `/v2/${repo.path}/referrers/${digest}`, {
      headers: { accept: OCI_INDEX },
      access: [pull(repo.path, true)],
      accept: [400, 404, 405],
    })
    const contentType = headerValue(res.headers, 'content-type') ?? ''
    await res.body.dump()
    return res.status === 200 && contentType.startsWith(OCI_INDEX)
  }

  /** Abort in-flight requests and drop connections (doctor, after a check timed out). */
  destroy(): Promise<void> {
    return this.transport.destroy()
  }

  close(): Promise<void> {
    return this.transport.close()
  }
}

export function childDescriptors(manifest: ManifestData): Descriptor[] {
  return isIndexMediaType(manifest.mediaType) || manifest.parsed.manifests ? (manifest.parsed.manifests ?? []) : []
}

export function blobDescriptors(manifest: ManifestData): Descriptor[] {
  if (childDescriptors(manifest).length > 0) return []
  return [...(manifest.parsed.config ? [manifest.parsed.config] : []), ...(manifest.parsed.layers ?? [])]
}

/** Image config JSON of a manifest (for an index: of its first platform), e.g. for `created` and labels. */
export async function readImageConfig(
  client: RegistryClient,
  repo: RepositoryRef,
  digest: string,
): Promise<{ created?: string; config?: { Labels?: Record<string, string> } } | undefined> {
  let manifest = await client.getManifest(repo, digest)
  const first = childDescriptors(manifest)[0]
  if (first) manifest = await client.getManifest(repo, first.digest)
  const config = manifest.parsed.config
  if (!config) return undefined
  const bytes = await client.getBlob(repo, config.digest)
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
}

export type ImageConfig = NonNullable<Awaited<ReturnType<typeof readImageConfig>>>

/**
 * The build time Konflux records in an image: the OCI label `org.opencontainers.image.created`, the Red Hat
 * `build-date` label, else the config's `created`. Undefined when none of them is a valid time.
 */
export function buildTimeOf(config: ImageConfig | undefined): Date | undefined {
  const labels = config?.config?.Labels ?? {}
  const stamp = labels['org.opencontainers.image.created'] ?? labels['build-date'] ?? config?.created
  const at = stamp ? new Date(stamp) : undefined
  return at && !Number.isNaN(at.getTime()) ? at : undefined
}
