import { UsageError } from '../cli/errors.js'
import { parseImageRef, repository } from '../image-ref/index.js'
import { type ComponentSpec, DNS_LABEL } from '../spec/index.js'

/** A component, environment or app name must be a DNS-1123 label: it becomes a directory, a name and a namespace. */
export function checkName(what: string, value: string, flag: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new UsageError(
      `${flag}: ${what} "${value}" must be a DNS-1123 label (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit)`,
      { code: 'invalid-name', hint: `Use a name such as "${suggestLabel(value)}".` },
    )
  }
  return value
}

function suggestLabel(value: string): string {
  const label = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
  return label || 'api'
}

/** An image repository without tag or digest: the tag comes from the spec, the digest from Renovate or --pin. */
export function checkImageRepository(value: string, flag: string): string {
  let ref: ReturnType<typeof parseImageRef>
  try {
    ref = parseImageRef(value)
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`, {
      code: 'invalid-image-reference',
      hint: 'Give the image repository, e.g. quay.io/acme/shop/api (no tag: the tag comes from --tag).',
    })
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new UsageError(`${flag}: "${value}" has a tag or digest; give the repository only (${repository(ref)})`, {
      code: 'invalid-image-reference',
      hint: 'The environments set the tag (--tag, default released) and Renovate pins the digest.',
    })
  }
  return repository(ref)
}

export function checkPort(value: string, flag: string): number {
  const port = Number(value)
  if (!/^[0-9]+$/.test(value) || port < 1 || port > 65535) {
    throw new UsageError(`${flag}: port "${value}" must be a number from 1 to 65535`, { code: 'invalid-port' })
  }
  return port
}

/**
 * `NAME=IMAGE[:PORT]`. A trailing `:<digits>` after the image's last "/" is the container port: images here never
 * carry a tag, so it cannot be one.
 */
export function parseComponentFlag(value: string): ComponentSpec {
  const flag = `--component ${value}`
  const eq = value.indexOf('=')
  if (eq <= 0) {
    throw new UsageError(`${flag}: expected NAME=IMAGE[:PORT]`, {
      code: 'invalid-component',
      hint: 'For example --component api=quay.io/acme/shop/api or --component web=quay.io/acme/shop/web:8080',
    })
  }
  const name = checkName('component name', value.slice(0, eq), flag)
  let image = value.slice(eq + 1)
  let port: number | undefined
  const portMatch = /:([0-9]+)$/.exec(image)
  if (portMatch && image.lastIndexOf('/') < image.lastIndexOf(':')) {
    port = checkPort(portMatch[1]!, flag)
    image = image.slice(0, portMatch.index)
  }
  return { name, image: checkImageRepository(image, flag), ...(port === undefined ? {} : { port }) }
}

/** Credentials must never reach konflux-gitops.yaml or Argo CD objects. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.username || parsed.password) {
      parsed.username = ''
      parsed.password = ''
      return parsed.toString()
    }
  } catch {
    // scp-like ssh URLs (git@host:path) are not URLs and carry no password.
  }
  return url
}
