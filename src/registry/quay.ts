/**
 * Quay gives a tag the expiry of the manifest it points at when the image carries the label `quay.expires-after`
 * (Konflux sets it on pull-request builds). A `released` tag must not expire: with a Quay OAuth token we clear the
 * expiry in a separate API call after the retarget; without one we can only warn.
 *
 * Only testable here against a fake of Quay's tag API (`/api/v1/repository/{repo}/tag/…`); no Quay runs locally.
 */
import { type RegistryClient, type RepositoryRef, readImageConfig } from './client.js'
import { describeRegistryBody, RegistryError } from './errors.js'

export const QUAY_EXPIRES_LABEL = 'quay.expires-after'

export interface QuayOptions {
  /** OAuth token (application token with repo:write) for Quay's API. */
  token?: string | undefined
  /** Registries that are Quay instances (default: quay.io). */
  registries?: string[]
}

export interface QuayExpiryOutcome {
  /** The tag had an expiry (or will inherit one, when only the label could be checked). */
  expiring: boolean
  cleared: boolean
  warning: string | undefined
}

export function isQuay(registry: string, options: QuayOptions | undefined): boolean {
  return (options?.registries ?? ['quay.io']).includes(registry)
}

interface QuayTag {
  name: string
  expiration?: string | null
  end_ts?: number | null
}

async function quayTag(client: RegistryClient, repo: RepositoryRef, tag: string, token: string) {
  const path = `/api/v1/repository/${repo.path}/tag/?specificTag=${encodeURIComponent(tag)}&onlyActiveTags=true`
  const res = await client.transport.send(repo.registry, 'GET', path, {
    authorization: `Bearer ${token}`,
    access: [],
    headers: { accept: 'application/json' },
  })
  const body = (await res.body.json()) as { tags?: QuayTag[] }
  return body.tags?.find((t) => t.name === tag)
}

/** After `tag` was pointed at `digest`: clear an inherited expiry (token) or warn about it (no token). */
export async function handleQuayExpiry(
  client: RegistryClient,
  repo: RepositoryRef,
  tag: string,
  digest: string,
  options: QuayOptions | undefined,
): Promise<QuayExpiryOutcome> {
  const where = `${repo.registry}/${repo.path}:${tag}`
  if (options?.token) {
    const found = await quayTag(client, repo, tag, options.token)
    const expiring = Boolean(found && (found.expiration || found.end_ts))
    if (!expiring) return { expiring: false, cleared: false, warning: undefined }
    const res = await client.transport.send(
      repo.registry,
      'PUT',
      `/api/v1/repository/${repo.path}/tag/${encodeURIComponent(tag)}`,
      {
        authorization: `Bearer ${options.token}`,
        access: [],
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expiration: null }),
        accept: [400, 401, 403, 404],
      },
    )
    const text = await res.body.text()
    if (res.status >= 400) {
      throw new RegistryError(
        `${where}: inherits an expiry and clearing it failed: HTTP ${res.status} (${describeRegistryBody(text)})`,
        {
          status: res.status,
          hint: 'The Quay token needs repo:write (admin of the repository) to change tag expiry.',
        },
      )
    }
    return { expiring: true, cleared: true, warning: undefined }
  }
  const config = await readImageConfig(client, repo, digest)
  const label = config?.config?.Labels?.[QUAY_EXPIRES_LABEL]
  if (!label) return { expiring: false, cleared: false, warning: undefined }
  return {
    expiring: true,
    cleared: false,
    warning: `${where} inherits the image's ${QUAY_EXPIRES_LABEL}=${label} and will expire; pass --quay-token (or QUAY_TOKEN) to clear it`,
  }
}
