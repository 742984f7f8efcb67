import { UsageError } from '../cli/errors.js'

/**
 * A container image reference per the distribution reference grammar
 * (github.com/distribution/reference), normalised the way docker and Renovate do:
 * `nginx` is `docker.io/library/nginx`.
 */
export interface ImageRef {
  /** Registry host with optional port: `quay.io`, `localhost:5000`, `[::1]:5000`, `docker.io`. */
  readonly registry: string
  /** Repository path inside the registry: `acme/shop/api`, `library/nginx`. */
  readonly path: string
  readonly tag?: string
  /** `algorithm:hex`, e.g. `sha256:<64 hex>`. */
  readonly digest?: string
}

export type ImageRefPart = 'reference' | 'registry' | 'path' | 'tag' | 'digest'

export class ImageRefError extends UsageError {
  readonly input: string
  readonly part: ImageRefPart
  /** 0-based index into the input where the offending part starts. */
  readonly position: number

  constructor(input: string, part: ImageRefPart, position: number, reason: string) {
    super(`invalid image reference "${input}": ${part} at character ${position + 1}: ${reason}`, {
      code: 'invalid-image-reference',
      hint: 'Use the form registry/path/name[:tag][@sha256:<64 hex digits>], e.g. quay.io/acme/shop/api:released',
    })
    this.name = 'ImageRefError'
    this.input = input
    this.part = part
    this.position = position
  }
}

export const DOCKER_HUB = 'docker.io'
const MAX_NAME_LENGTH = 255

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/
const PORT = /^[0-9]+$/
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
const KNOWN_DIGEST_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }

/** Does the first path segment name a registry? Same rule as distribution's splitDockerDomain. */
function looksLikeRegistry(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost' || segment.toLowerCase() !== segment
}

function checkRegistry(input: string, host: string, at: number): void {
  let name = host
  let port: string | undefined
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close < 0) throw new ImageRefError(input, 'registry', at, `IPv6 address "${host}" has no closing "]"`)
    name = host.slice(0, close + 1)
    const rest = host.slice(close + 1)
    if (rest !== '') {
      if (!rest.startsWith(':'))
        throw new ImageRefError(input, 'registry', at, `unexpected "${rest}" after IPv6 address`)
      port = rest.slice(1)
    }
    if (!IPV6_HOST.test(name)) throw new ImageRefError(input, 'registry', at, `"${name}" is not an IPv6 address`)
  } else {
    const colon = host.indexOf(':')
    if (colon >= 0) {
      name = host.slice(0, colon)
      port = host.slice(colon + 1)
    }
    const labels = name.split('.')
    for (const label of labels) {
      if (!DOMAIN_COMPONENT.test(label)) {
        throw new ImageRefError(
          input,
          'registry',
          at,
          `"${name}" is not a host name (letters, digits and "-" between dots; no empty label)`,
        )
      }
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535 || port === '')) {
    throw new ImageRefError(input, 'registry', at, `port "${port}" must be a number from 0 to 65535`)
  }
}

function checkDigest(input: string, digest: string, at: number): void {
  if (!DIGEST.test(digest)) {
    throw new ImageRefError(input, 'digest', at, `"${digest}" is not algorithm:hex (e.g. sha256:<64 hex digits>)`)
  }
  const [algorithm = '', hex = ''] = digest.split(':')
  const want = KNOWN_DIGEST_LENGTH[algorithm]
  if (want !== undefined && hex.length !== want) {
    throw new ImageRefError(
      input,
      'digest',
      at,
      `${algorithm} digest must have ${want} hex digits, found ${hex.length}`,
    )
  }
  if (want !== undefined && hex !== hex.toLowerCase()) {
    throw new ImageRefError(input, 'digest', at, `${algorithm} digest must be lowercase hex`)
  }
}

/** Parse an image reference; throws ImageRefError naming the wrong part and where it starts. */
export function parseImageRef(input: string): ImageRef {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ImageRefError(String(input ?? ''), 'reference', 0, 'is empty')
  }
  if (input.trim() !== input) throw new ImageRefError(input, 'reference', 0, 'has leading or trailing whitespace')

  let rest = input
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    checkDigest(input, digest, at + 1)
    rest = rest.slice(0, at)
  }

  // The tag is after the last ':' that follows the last '/'; a ':' before it belongs to a registry port.
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.indexOf(':', lastSlash + 1)
  if (colon >= 0 && !(lastSlash < 0 && rest.startsWith('['))) {
    tag = rest.slice(colon + 1)
    if (!TAG.test(tag)) {
      const why =
        tag.length > 128
          ? `is ${tag.length} characters; the limit is 128`
          : `"${tag}" must start with a letter, digit or "_" and contain only letters, digits, "_", "." and "-"`
      throw new ImageRefError(input, 'tag', colon + 1, why)
    }
    rest = rest.slice(0, colon)
  }
  if (rest.length === 0) throw new ImageRefError(input, 'path', 0, 'the repository name is empty')

  let registry = DOCKER_HUB
  let path = rest
  let pathStart = 0
  const slash = rest.indexOf('/')
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash)
    checkRegistry(input, registry, 0)
    path = rest.slice(slash + 1)
    pathStart = slash + 1
  } else if (rest.startsWith('[') || (slash < 0 && rest.includes(':'))) {
    throw new ImageRefError(input, 'path', 0, 'a registry host needs a repository path after it')
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`

  let offset = pathStart
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      const why =
        component === ''
          ? 'empty path component (double or trailing "/")'
          : component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())
            ? `"${component}" must be lowercase`
            : `"${component}" may contain only lowercase letters, digits and single ".", "_", "__" or "-" separators between them`
      throw new ImageRefError(input, 'path', Math.min(offset, input.length - 1), why)
    }
    offset += component.length + 1
  }
  const nameLength = registry.length + 1 + path.length
  if (nameLength > MAX_NAME_LENGTH) {
    throw new ImageRefError(
      input,
      'path',
      pathStart,
      `the repository name is ${nameLength} characters; the limit is ${MAX_NAME_LENGTH}`,
    )
  }
  return { registry, path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) }
}

/** Like parseImageRef, but returns undefined instead of throwing. */
export function tryParseImageRef(input: string): ImageRef | undefined {
  try {
    return parseImageRef(input)
  } catch {
    return undefined
  }
}

/** `registry/path` without tag or digest. */
export function repository(ref: ImageRef): string {
  return `${ref.registry}/${ref.path}`
}

export function registry(ref: ImageRef): string {
  return ref.registry
}

/** The full, normalised reference: `registry/path[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${repository(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`
}

/** The same repository with this tag (keeps the digest, as `tag@digest` references do). */
export function withTag(ref: ImageRef, tag: string | undefined): ImageRef {
  const { tag: _old, ...rest } = ref
  const next: ImageRef = tag === undefined ? rest : { ...rest, tag }
  return parseImageRef(formatImageRef(next))
}

/** The same repository pinned to this digest (keeps the tag). */
export function withDigest(ref: ImageRef, digest: string | undefined): ImageRef {
  const { digest: _old, ...rest } = ref
  const next: ImageRef = digest === undefined ? rest : { ...rest, digest }
  return parseImageRef(formatImageRef(next))
}

/** Does this string look like a sha256 digest the way Konflux and registries write them? */
export function isSha256Digest(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value)
}

/** A pinned digest as tables and summaries print it: the first 12 hex digits, or "unpinned". */
export function shortDigest(digest: string | null): string {
  return digest === null ? 'unpinned' : digest.replace(/^sha256:/, '').slice(0, 12)
}
