/** Manifest media types this client reads and writes; indexes are always handled whole, never resolved to a platform. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

/** Index types first is not a preference order for the registry (it must return what it stored) but documents intent. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ')

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  artifactType?: string
  annotations?: Record<string, string>
  platform?: { architecture?: string; os?: string; variant?: string }
}

export interface ParsedManifest {
  mediaType: string | undefined
  /** Child manifests of an index. */
  manifests?: Descriptor[]
  config?: Descriptor
  layers?: Descriptor[]
  subject?: Descriptor
  artifactType?: string
}

/** The media type of stored bytes: the body's own `mediaType`, else the Content-Type the registry sent. */
export function manifestMediaType(parsed: ParsedManifest, contentType: string | undefined): string {
  const header = contentType?.split(';')[0]?.trim()
  if (parsed.mediaType) return parsed.mediaType
  if (header && header !== 'application/json' && header !== 'application/octet-stream') return header
  return parsed.manifests ? OCI_INDEX : OCI_MANIFEST
}
