/**
 * OCI registry access for konflux-gitops: resolve digests, retag and promote images, follow their signatures.
 *
 *   const client = createRegistryClient({ ca: pem })            // credentials from DOCKER_CONFIG/REGISTRY_AUTH_FILE
 *   const { digest, mediaType } = await client.resolveDigest('quay.io/acme/api:released')  // index digest if multi-arch
 *   await client.manifestExists('quay.io/acme/api@sha256:…')
 *   await copyToTag(client, { registry, path, digest }, { registry, path: 'acme/prod/api' }, 'released')
 *   await client.close()
 */
import { RegistryClient, type RegistryClientOptions } from './client.js'

export { type BackoffPolicy, backoffMs } from './backoff.js'
export {
  blobDescriptors,
  buildTimeOf,
  childDescriptors,
  type ImageConfig,
  type ManifestData,
  nextPage,
  type ReferrerList,
  RegistryClient,
  type RegistryClientOptions,
  type RepositoryRef,
  type ResolvedManifest,
  readImageConfig,
  referrersTag,
  sha256Digest,
} from './client.js'
export {
  type CopyOptions,
  type CopyOutcome,
  type CopyRead,
  type CopySource,
  copyToTag,
  readForCopy,
  writeCopy,
} from './copy.js'
export { CredentialStore, type Credentials, normaliseAuthKey } from './credentials.js'
export { printable, RegistryError, type RegistryErrorCode, scrubCredentials } from './errors.js'
export * from './media-types.js'
export type { QuayOptions } from './quay.js'
export { parseChallenge, type RequestEvent, retryAfterMs } from './transport.js'

/** A client with its own keep-alive pool and token cache; call close() when done so the process can exit. */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(options)
}
