/**
 * What the releaser may touch with its credentials: source repositories it copies from and target repositories it
 * writes to. A signed Snapshot naming anything else is refused before any connection is made. Entries are a
 * registry (`quay.io`), a path prefix ending in `/` (`quay.io/redhat-user-workloads/`) or one repository
 * (`quay.io/acme/api`, which also covers `quay.io/acme/api/…`).
 */
import { UsageError } from '../cli/errors.js'
import type { PlannedRetag } from './journal/index.js'

export interface Allowlist {
  readonly sources: readonly string[]
  readonly targets: readonly string[]
}

const ENTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._/-]*)?$/

/** Check and normalise one entry (lower case; a trailing `/` means "everything under"). */
export function parseAllowEntry(value: string, where: string): string {
  const entry = value.trim().toLowerCase()
  if (!ENTRY.test(entry) || entry.includes('//')) {
    throw new UsageError(`${where}: "${value}" is not a registry, registry/path/ prefix or repository`, {
      hint: 'e.g. quay.io/redhat-user-workloads/ (everything under it) or quay.io/acme/api (one repository).',
    })
  }
  return entry
}

export function isAllowed(list: readonly string[], repository: string): boolean {
  const repo = repository.toLowerCase()
  return list.some((entry) =>
    entry.endsWith('/') ? repo.startsWith(entry) : repo === entry || repo.startsWith(`${entry}/`),
  )
}

/** `registry/path@digest` → `registry/path`. */
function repositoryOf(source: string): string {
  const at = source.indexOf('@')
  return at < 0 ? source : source.slice(0, at)
}

/**
 * Why these retags may not run, or undefined. A retag into its own source repository needs only the source to be
 * allowed; one into another repository needs the target allowed as a target.
 */
export function allowlistViolation(
  allow: Allowlist,
  retags: readonly PlannedRetag[],
  images: ReadonlyArray<{ component: string; repository: string }> = [],
): string | undefined {
  // Every image the Snapshot names, released or not: a request naming a foreign registry is refused as a whole.
  for (const image of images) {
    if (!isAllowed(allow.sources, image.repository)) {
      return `component ${image.component}: source ${image.repository} is not in the releaser's allowed sources`
    }
  }
  for (const retag of retags) {
    const source = repositoryOf(retag.source)
    if (!isAllowed(allow.sources, source)) {
      return `component ${retag.component}: source ${source} is not in the releaser's allowed sources`
    }
    if (retag.repository !== source && !isAllowed(allow.targets, retag.repository)) {
      return `component ${retag.component}: target ${retag.repository} is not in the releaser's allowed targets`
    }
  }
  return undefined
}

/** The registries an allowlist names: the only ones /readyz checks. */
export function allowlistRegistries(allow: Allowlist): string[] {
  return [...new Set([...allow.sources, ...allow.targets].map((entry) => entry.split('/')[0]!))]
}
