import { repository, tryParseImageRef } from '../image-ref/index.js'
import type { CheckContext } from './context.js'

const normalised = new Map<string, string | null>()

/** `registry/path` of an image name, memoised: a repo names the same few images thousands of times. */
export function repositoryOf(name: string): string | null {
  let repo = normalised.get(name)
  if (repo === undefined) {
    const ref = tryParseImageRef(name)
    repo = ref ? repository(ref) : null
    if (normalised.size > 100_000) normalised.clear()
    normalised.set(name, repo)
  }
  return repo
}

export interface ImagePolicy {
  tag: string
  allowUnpinned: boolean
  /** Repositories of the spec's components (the tag policy applies to these); undefined without a spec. */
  componentRepos: Set<string> | undefined
  /** Allowed repository prefixes as written and normalised (`nginx` → `docker.io/library/nginx`). */
  prefixes: string[]
  prefixSet: Set<string>
}

export function imagePolicyOf(ctx: CheckContext): ImagePolicy {
  const spec = ctx.spec
  const raw = spec?.allowedRegistries?.length ? spec.allowedRegistries : (spec?.components.map((c) => c.image) ?? [])
  const prefixSet = new Set<string>()
  for (const prefix of raw) {
    const trimmed = prefix.replace(/\/+$/, '')
    prefixSet.add(trimmed)
    // A bare host (quay.io) is a registry prefix, not a Docker Hub image name.
    if (trimmed.includes('/') || !/[.:]/.test(trimmed)) {
      const repo = repositoryOf(trimmed)
      if (repo) prefixSet.add(repo)
    }
  }
  const componentRepos = spec ? new Set(spec.components.map((c) => repositoryOf(c.image) ?? c.image)) : undefined
  return {
    tag: spec?.tag ?? 'released',
    allowUnpinned: spec?.allowUnpinned ?? true,
    componentRepos,
    prefixes: raw,
    prefixSet,
  }
}

/** Is `repo` (registry/path) equal to or under an allowed prefix, on a path boundary? */
export function registryAllowed(policy: ImagePolicy, repo: string): boolean {
  if (policy.prefixSet.size === 0) return true
  for (let end = repo.length; end > 0; end = repo.lastIndexOf('/', end - 1)) {
    if (policy.prefixSet.has(repo.slice(0, end))) return true
  }
  return false
}
