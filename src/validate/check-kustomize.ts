import { tryParseImageRef } from '../image-ref/index.js'
import { imagePatchPath, kustomizeImagePins, type LocatedDocument, locator, pinStoreFor } from '../pins/index.js'
import { type RepoSpec, SPEC_FILE } from '../spec/index.js'
import { kustomizationFiles, kustomizationIn } from './check-layout.js'
import { checkPinPolicy, pinFilesOf } from './check-pins.js'
import { type CheckContext, dirOf, isRecord, joinRepoPath } from './context.js'
import { type ImagePolicy, imagePolicyOf, repositoryOf } from './image-policy.js'
import { locate, type ParsedFile } from './yaml-docs.js'

function pinStoreShape(spec: RepoSpec): string | undefined {
  try {
    return pinStoreFor(spec).shape
  } catch {
    return undefined
  }
}

interface Kustomization {
  path: string
  dir: string
  file: ParsedFile
  value: Record<string, unknown>
  /** Directories of the kustomizations it includes (resources and components that are directories). */
  includes: { dir: string; path: (string | number)[] }[]
  /** Repo paths of the patch files it lists that exist. */
  patches: string[]
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
    byDir.set(dir, { path, dir, file, value, includes: [], patches: [] })
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
    if (target !== undefined && ctx.tree.files.has(target)) {
      k.patches.push(target)
      continue
    }
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

function checkImages(ctx: CheckContext, k: Kustomization, policy: ImagePolicy, pinFiles: Set<string>): void {
  const images = k.value.images
  if (images === undefined || images === null) return
  if (!Array.isArray(images)) {
    ctx.report('kustomization-invalid', k.path, locate(k.file, 0, ['images']), 'images must be a list')
    return
  }
  const invalid = new Set<string>()
  images.forEach((entry, index) => {
    const at = (...key: string[]) => locate(k.file, 0, ['images', index, ...key])
    const entryAt = at()
    const mark = (): void => {
      invalid.add(`${k.path}:${entryAt.line}:${entryAt.column}`)
    }
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      ctx.report('kustomization-invalid', k.path, entryAt, `images[${index}] needs a name (the image in the base)`)
      mark()
      return
    }
    for (const key of ['newName', 'newTag', 'digest'] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== 'string') {
        ctx.report('kustomization-invalid', k.path, at(key), `images[${index}].${key} must be a string (quote it)`)
        mark()
        return
      }
    }
    const repoName = (entry.newName as string | undefined) ?? entry.name
    if (!tryParseImageRef(repoName)) {
      ctx.report('kustomization-invalid', k.path, at('name'), `"${repoName}" is not a valid image name`)
      mark()
      return
    }
  })
  for (const key of invalid) ctx.invalidPinEntries.add(key)
  // An environment's pin file is the pin check's (through the pin seam); every other kustomization is read here,
  // through the same reader and the same policy.
  if (pinFiles.has(k.path)) return
  const document = k.file.docs[0]?.document
  if (!document) return
  const located: LocatedDocument = { doc: document, at: locator(k.file.lineCounter) }
  for (const pin of kustomizeImagePins(ctx.spec, located, k.path)) {
    if (invalid.has(`${k.path}:${pin.at.entry.line}:${pin.at.entry.column}`)) continue
    checkPinPolicy(ctx, pin, policy, 'kustomize-images')
  }
}

function checkOverlayImages(ctx: CheckContext, all: Map<string, Kustomization>): void {
  const spec = ctx.spec
  if (spec?.flavour !== 'kustomize') return
  const patches = spec.updater === 'dependabot'
  for (const environment of spec.environments) {
    const overlay = all.get(`environments/${environment.name}`)
    if (!overlay) continue
    const reached = reachable(all, overlay.dir)
    const covered = new Set<string>()
    const patched = new Set<string>()
    for (const dir of reached) {
      const k = all.get(dir)
      for (const patch of k?.patches ?? []) patched.add(patch)
      const images = k?.value.images
      if (!Array.isArray(images)) continue
      for (const e of images) if (isRecord(e) && typeof e.name === 'string') covered.add(repositoryOf(e.name) ?? e.name)
    }
    for (const component of spec.components) {
      if (!reached.has(`components/${component.name}/base`)) continue
      if (patches) {
        // With Dependabot the pin is the image patch: an overlay that stops listing it deploys the untagged base.
        const file = imagePatchPath(environment.name, component.name)
        if (patched.has(file)) continue
        const relative = file.slice(overlay.dir.length + 1)
        ctx.report(
          'kustomize-image-missing',
          overlay.path,
          locate(overlay.file, 0, overlay.value.patches === undefined ? [] : ['patches']),
          ctx.tree.files.has(file)
            ? `${overlay.path} does not list ${relative} under patches: environment "${environment.name}" would deploy the untagged base image ${component.image}, and Dependabot's updates to ${relative} would never deploy`
            : `no image patch for component "${component.name}" in environment "${environment.name}" (${file}): the untagged base image ${component.image} would deploy`,
          `List \`- path: ${relative}\` under patches: in ${overlay.path} (\`npx konflux-gitops init\` writes the patch and the entry).`,
        )
        continue
      }
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
  if (patches) checkUnreferencedPatches(ctx, all)
}

/** images/<component>.yaml files that no kustomization lists: Dependabot keeps moving a pin nothing deploys. */
function checkUnreferencedPatches(ctx: CheckContext, all: Map<string, Kustomization>): void {
  if (!ctx.enabled('image-patch-unreferenced')) return
  const listed = new Set([...all.values()].flatMap((k) => k.patches))
  for (const path of [...ctx.tree.files.keys()].sort()) {
    const match = /^environments\/([^/]+)\/images\/([^/]+)\.ya?ml$/.exec(path)
    if (!match || listed.has(path)) continue
    const [, env, name] = match
    const known = ctx.spec?.components.some((c) => c.name === name)
    ctx.report(
      'image-patch-unreferenced',
      path,
      { line: 1, column: 1 },
      `no kustomization lists ${path} under patches (${known ? `environments/${env}/kustomization.yaml should` : `and "${name}" is not a component of ${SPEC_FILE}`}): Dependabot moves its pin, and nothing deploys it`,
    )
  }
}

export function checkKustomize(ctx: CheckContext): void {
  const all = collectKustomizations(ctx)
  const policy = imagePolicyOf(ctx)
  const pinFiles = ctx.spec && pinStoreShape(ctx.spec) === 'kustomize-images' ? pinFilesOf(ctx.spec) : new Set<string>()
  for (const k of all.values()) {
    checkPaths(ctx, k)
    checkImages(ctx, k, policy, pinFiles)
  }
  checkCycles(ctx, all)
  checkOverlayImages(ctx, all)
}
