import { isSha256Digest, repository, tryParseImageRef } from '../image-ref/index.js'
import { SPEC_FILE } from '../spec/index.js'
import { kustomizationFiles, kustomizationIn } from './check-layout.js'
import { type CheckContext, dirOf, isRecord, joinRepoPath } from './context.js'
import { locate, type ParsedFile } from './yaml-docs.js'

interface Kustomization {
  path: string
  dir: string
  file: ParsedFile
  value: Record<string, unknown>
  /** Directories of the kustomizations it includes (resources and components that are directories). */
  includes: { dir: string; path: (string | number)[] }[]
}

/** Remote bases (git URLs, https) are kustomize's to fetch; validate checks only what is in the repo. */
function isRemote(reference: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference) ||
    reference.includes('?ref=')
  )
}

function stringList(
  ctx: CheckContext,
  k: Pick<Kustomization, 'path' | 'file' | 'value'>,
  key: string,
): { value: string; index: number }[] {
  const list = k.value[key]
  if (list === undefined || list === null) return []
  if (!Array.isArray(list)) {
    ctx.report('kustomization-invalid', k.path, locate(k.file, 0, [key]), `${key} must be a list of paths`)
    return []
  }
  const out: { value: string; index: number }[] = []
  list.forEach((item, index) => {
    if (typeof item === 'string') out.push({ value: item, index })
    else ctx.report('kustomization-invalid', k.path, locate(k.file, 0, [key, index]), `${key}[${index}] must be a path`)
  })
  return out
}

function collectKustomizations(ctx: CheckContext): Map<string, Kustomization> {
  const byDir = new Map<string, Kustomization>()
  for (const [path, file] of kustomizationFiles(ctx)) {
    const value = file.docs[0]?.value
    if (file.problems.length > 0) continue
    const dir = dirOf(path)
    if (!isRecord(value)) {
      ctx.report('kustomization-invalid', path, locate(file, 0, []), 'a kustomization must be a YAML mapping')
      continue
    }
    if (byDir.has(dir)) continue // kustomize itself refuses two; the first one is what it reads.
    byDir.set(dir, { path, dir, file, value, includes: [] })
  }
  return byDir
}

function checkPaths(ctx: CheckContext, k: Kustomization): void {
  for (const key of ['resources', 'components', 'bases'] as const) {
    for (const { value, index } of stringList(ctx, k, key)) {
      if (isRemote(value)) continue
      const target = joinRepoPath(k.dir, value)
      const position = locate(k.file, 0, [key, index])
      if (target === undefined) {
        ctx.report('kustomize-path-missing', k.path, position, `${key}: "${value}" points outside the repository`)
        continue
      }
      if (ctx.tree.files.has(target) && key === 'resources') continue
      if (ctx.tree.dirs.has(target)) {
        if (kustomizationIn(ctx, target)) k.includes.push({ dir: target, path: [key, index] })
        else
          ctx.report(
            'kustomize-path-missing',
            k.path,
            position,
            `${key}: directory "${value}" has no kustomization.yaml`,
          )
        continue
      }
      ctx.report(
        'kustomize-path-missing',
        k.path,
        position,
        `${key}: "${value}" does not exist (resolved to ${target})`,
      )
    }
  }
  const patchFiles: { value: string; path: (string | number)[] }[] = []
  for (const { value, index } of stringList(ctx, k, 'patchesStrategicMerge')) {
    // Inline patches are YAML text, not paths.
    if (!value.includes('\n')) patchFiles.push({ value, path: ['patchesStrategicMerge', index] })
  }
  for (const key of ['patches', 'patchesJson6902'] as const) {
    const list = k.value[key]
    if (!Array.isArray(list)) continue
    list.forEach((item, index) => {
      if (isRecord(item) && typeof item.path === 'string')
        patchFiles.push({ value: item.path, path: [key, index, 'path'] })
    })
  }
  for (const patch of patchFiles) {
    const target = joinRepoPath(k.dir, patch.value)
    if (target !== undefined && ctx.tree.files.has(target)) continue
    ctx.report(
      'kustomize-path-missing',
      k.path,
      locate(k.file, 0, patch.path),
      `patch file "${patch.value}" does not exist${target === undefined ? ' inside the repository' : ''}`,
    )
  }
}

function checkCycles(ctx: CheckContext, all: Map<string, Kustomization>): void {
  // Iterative DFS with colours: white = unseen, grey = on the stack, black = done.
  const colour = new Map<string, 'grey' | 'black'>()
  const reported = new Set<string>()
  // Start from the tops (overlays nobody includes) so the edge that closes a cycle is the one pointing back up.
  const included = new Set([...all.values()].flatMap((k) => k.includes.map((e) => e.dir)))
  const starts = [...all.keys()].sort((a, b) => Number(included.has(a)) - Number(included.has(b)))
  for (const start of starts) {
    if (colour.has(start)) continue
    const stack: { dir: string; next: number }[] = [{ dir: start, next: 0 }]
    colour.set(start, 'grey')
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!
      const node = all.get(frame.dir)
      const edge = node?.includes[frame.next]
      if (!node || !edge) {
        colour.set(frame.dir, 'black')
        stack.pop()
        continue
      }
      frame.next++
      const state = colour.get(edge.dir)
      if (state === 'grey') {
        const cycleStart = stack.findIndex((f) => f.dir === edge.dir)
        const cycle = [...stack.slice(cycleStart).map((f) => f.dir), edge.dir]
        const key = [...cycle.slice(0, -1)].sort().join('|')
        if (!reported.has(key)) {
          reported.add(key)
          // Blame the edge that points back up to an environment overlay when there is one: bases include nothing.
          const edges = stack.slice(cycleStart).map((f) => {
            const from = all.get(f.dir)!
            return { from, edge: from.includes[f.next - 1]! }
          })
          const blamed = edges.find((e) => e.edge.dir.startsWith('environments/')) ?? { from: node, edge }
          ctx.report(
            'kustomize-cycle',
            blamed.from.path,
            locate(blamed.from.file, 0, blamed.edge.path),
            `kustomizations include each other: ${cycle.map((d) => d || '.').join(' → ')}`,
          )
        }
      } else if (state === undefined) {
        colour.set(edge.dir, 'grey')
        stack.push({ dir: edge.dir, next: 0 })
      }
    }
  }
}

/** Which kustomization directories an overlay reaches (cycle-safe). */
function reachable(all: Map<string, Kustomization>, from: string): Set<string> {
  const seen = new Set<string>([from])
  const queue = [from]
  for (let i = 0; i < queue.length; i++) {
    for (const edge of all.get(queue[i]!)?.includes ?? []) {
      if (!seen.has(edge.dir)) {
        seen.add(edge.dir)
        queue.push(edge.dir)
      }
    }
  }
  return seen
}

const DIGEST_LIKE = /^[A-Za-z][A-Za-z0-9+._-]*:/

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

function checkImages(ctx: CheckContext, k: Kustomization, policy: ImagePolicy): void {
  const images = k.value.images
  if (images === undefined || images === null) return
  if (!Array.isArray(images)) {
    ctx.report('kustomization-invalid', k.path, locate(k.file, 0, ['images']), 'images must be a list')
    return
  }
  images.forEach((entry, index) => {
    const at = (...key: string[]) => locate(k.file, 0, ['images', index, ...key])
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      ctx.report('kustomization-invalid', k.path, at(), `images[${index}] needs a name (the image in the base)`)
      return
    }
    const name = entry.name
    for (const key of ['newName', 'newTag', 'digest'] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== 'string') {
        ctx.report('kustomization-invalid', k.path, at(key), `images[${index}].${key} must be a string (quote it)`)
        return
      }
    }
    const newTag = entry.newTag as string | undefined
    const digestField = entry.digest as string | undefined
    if (newTag !== undefined && digestField !== undefined) {
      ctx.report(
        'image-tag-and-digest',
        k.path,
        at('digest'),
        `${name}: newTag and digest are both set; write newTag: "${newTag.split('@')[0]}@${digestField}"`,
      )
    }
    let tag: string | undefined = newTag
    let digest: string | undefined = digestField
    if (newTag?.includes('@')) {
      const at_ = newTag.indexOf('@')
      tag = newTag.slice(0, at_) || undefined
      digest = newTag.slice(at_ + 1)
    }
    if (digest !== undefined && !isSha256Digest(digest)) {
      ctx.report(
        'image-digest-format',
        k.path,
        at(digestField !== undefined ? 'digest' : 'newTag'),
        `${name}: digest "${digest}" is not sha256:<64 lowercase hex>${DIGEST_LIKE.test(digest) ? '' : ' (missing the sha256: prefix?)'}`,
      )
    }
    const repoName = (entry.newName as string | undefined) ?? name
    const ref = tryParseImageRef(repoName)
    if (!ref || ref.tag !== undefined || ref.digest !== undefined) {
      // A tag inside name/newName is ignored by kustomize's matching and confuses Renovate.
      if (ref?.tag === 'latest') ctx.report('image-latest', k.path, at('newName'), `${repoName} uses the tag latest`)
      else if (!ref) ctx.report('kustomization-invalid', k.path, at('name'), `"${repoName}" is not a valid image name`)
    }
    if (ref && !registryAllowed(policy, repository(ref))) {
      ctx.report(
        'image-registry-not-allowed',
        k.path,
        at(entry.newName !== undefined ? 'newName' : 'name'),
        `${repository(ref)} is outside the allowed registries (${policy.prefixes.join(', ')})`,
      )
    }
    if (tag === 'latest') {
      ctx.report(
        'image-latest',
        k.path,
        at('newTag'),
        `${name} uses the tag latest; use "${policy.tag}" pinned by digest`,
      )
    } else if (tag === undefined && digest === undefined) {
      ctx.report('image-untagged', k.path, at(), `${name} has no newTag; the base's untagged image would be deployed`)
    } else if (tag === undefined) {
      ctx.report(
        'image-tag-policy',
        k.path,
        at('digest'),
        `${name} pins a digest without the tag "${policy.tag}"; Renovate then tracks it as latest`,
      )
    } else if (tag !== policy.tag && ref && (!policy.componentRepos || policy.componentRepos.has(repository(ref)))) {
      ctx.report(
        'image-tag-policy',
        k.path,
        at('newTag'),
        `${name} uses tag "${tag}"; this repo deploys "${policy.tag}" (set in ${SPEC_FILE})`,
      )
    }
    if (tag !== undefined && tag !== 'latest' && digest === undefined && !policy.allowUnpinned) {
      ctx.report(
        'image-unpinned',
        k.path,
        at('newTag'),
        `${name}:${tag} is not pinned by digest and ${SPEC_FILE} sets allowUnpinned: false`,
      )
    }
  })
}

function checkOverlayImages(ctx: CheckContext, all: Map<string, Kustomization>): void {
  const spec = ctx.spec
  // With Dependabot the pins are image patches, not images: entries; check-dependabot checks them.
  if (!spec || spec.updater === 'dependabot') return
  for (const environment of spec.environments) {
    const overlay = all.get(`environments/${environment.name}`)
    if (!overlay) continue
    const reached = reachable(all, overlay.dir)
    const covered = new Set<string>()
    for (const dir of reached) {
      const images = all.get(dir)?.value.images
      if (!Array.isArray(images)) continue
      for (const e of images) if (isRecord(e) && typeof e.name === 'string') covered.add(repositoryOf(e.name) ?? e.name)
    }
    for (const component of spec.components) {
      if (!reached.has(`components/${component.name}/base`)) continue
      if (!covered.has(repositoryOf(component.image) ?? component.image)) {
        ctx.report(
          'kustomize-image-missing',
          overlay.path,
          locate(overlay.file, 0, overlay.value.images === undefined ? [] : ['images']),
          `no images: entry for component "${component.name}" (${component.image}) in environment "${environment.name}"`,
        )
      }
    }
  }
}

export function checkKustomize(ctx: CheckContext): void {
  const all = collectKustomizations(ctx)
  const policy = imagePolicyOf(ctx)
  for (const k of all.values()) {
    checkPaths(ctx, k)
    checkImages(ctx, k, policy)
  }
  checkCycles(ctx, all)
  checkOverlayImages(ctx, all)
}
