import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface OwnPackage {
  name: string
  version: string
  peerDependencies?: Record<string, string>
}

let own: { pkg: OwnPackage; root: string } | undefined

/**
 * konflux-gitops's own package.json: the nearest one named konflux-gitops above this file, so the answer is the
 * same from the sources (tests), from dist/src/ (built) and from an installed copy.
 */
export function ownPackage(): OwnPackage {
  return findOwn().pkg
}

/** The directory holding konflux-gitops's package.json (and schemas/, scaffolds/, presets/). */
export function ownRoot(): string {
  return findOwn().root
}

function findOwn(): { pkg: OwnPackage; root: string } {
  if (own) return own
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as OwnPackage
      if (pkg.name === 'konflux-gitops') {
        own = { pkg, root: dir }
        return own
      }
    } catch {
      // no (readable) package.json at this level: keep walking up
    }
    if (dirname(dir) === dir) throw new Error(`konflux-gitops: no package.json of its own above ${start}`)
  }
}

/** The version that is running: what generated files pin (`konflux-gitops@<version>`). */
export function ownVersion(): string {
  return ownPackage().version
}

/** Where deploy/Containerfile's image is published (its README and the release process push it there). */
export const IMAGE_REPOSITORY = 'quay.io/konflux-gitops/konflux-gitops'

/** The image of the running version: what generated pipelines run, by tag (`<repository>:<version>`). */
export function ownImage(): string {
  return `${IMAGE_REPOSITORY}:${ownVersion()}`
}
