import { type Document, isMap, isScalar, isSeq, Scalar, type YAMLMap } from 'yaml'
import { UsageError } from '../cli/errors.js'
import type { ComponentSpec, RepoSpec } from '../spec/index.js'
import { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
import { keyAt, parseLocated, parseYamlFile, START } from './positions.js'
import type { LocatedPin, PinStore, ReadText } from './types.js'

/** Folder of an environment's image patches: the directory dependabot.yml lists for that environment. */
export function imagePatchDir(env: string): string {
  return `environments/${env}/images`
}

export function imagePatchPath(env: string, component: string): string {
  return `${imagePatchDir(env)}/${component}.yaml`
}

/**
 * The patch as a fresh file. A strategic-merge patch carries `apiVersion` and `kind` first, which is also what
 * Dependabot requires of a YAML file before it looks for `image:` in it.
 */
function freshPatch(spec: RepoSpec, env: string, component: ComponentSpec): string {
  return [
    `# Image of ${component.name} in environment ${env} of ${spec.app}. Dependabot moves the digest below when`,
    `# ${component.image}:${spec.tag} moves; merging its pull request deploys it. Keep the image: value unquoted.`,
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${component.name}`,
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    `        - name: ${component.name}`,
    `          image: ${component.image}:${spec.tag}`,
    '',
  ].join('\n')
}

function containerOf(doc: Document, component: string): YAMLMap | undefined {
  const containers = doc.getIn(['spec', 'template', 'spec', 'containers'], true)
  if (!isSeq(containers)) return undefined
  return containers.items.find((item): item is YAMLMap => isMap(item) && item.get('name') === component)
}

/** `repo:tag@digest` split at the component's repository; undefined when the reference names another one. */
function splitImage(value: string, repository: string): { tag: string | undefined; digest: string | undefined } {
  const rest = value.slice(repository.length)
  if (!value.startsWith(repository)) return { tag: undefined, digest: undefined }
  if (rest.startsWith(':')) return parsePinnedTag(rest.slice(1))
  if (rest.startsWith('@')) return { tag: undefined, digest: rest.slice(1) }
  return { tag: undefined, digest: undefined }
}

/**
 * `repo[:tag][@digest]` split as written (no normalisation: `nginx` stays `nginx`). Hand-written because the image
 * parser normalises the repository, and the pin reports the repository the way the file spells it.
 */
export function splitReference(value: string): {
  repository: string
  tag: string | undefined
  digest: string | undefined
} {
  const at = value.indexOf('@')
  const named = at < 0 ? value : value.slice(0, at)
  const digest = at < 0 ? undefined : value.slice(at + 1)
  const colon = named.lastIndexOf(':')
  const hasTag = colon > named.lastIndexOf('/')
  return {
    repository: hasTag ? named.slice(0, colon) : named,
    tag: hasTag ? named.slice(colon + 1) || undefined : undefined,
    digest: digest || undefined,
  }
}

function readPatch(env: string, component: ComponentSpec, readText: ReadText) {
  const file = imagePatchPath(env, component.name)
  const text = readText(file)
  if (text === undefined) return { file, doc: undefined }
  return { file, doc: parseYamlFile(text, file) }
}

/**
 * One strategic-merge patch per component and environment whose container line is an unquoted
 * `image: <repo>:<tag>@sha256:<hex>`: the only kustomize-side form Dependabot updates (it never reads a
 * kustomization's `images:` nor a quoted `image:` string).
 */
export const manifestPatchesStore: PinStore = {
  shape: 'manifest-patches',

  files(spec, env) {
    return spec.components.map((component) => imagePatchPath(env, component.name))
  },

  read(spec, env, readText) {
    const pins: LocatedPin[] = []
    for (const component of spec.components) {
      const file = imagePatchPath(env, component.name)
      const text = readText(file)
      if (text === undefined) continue
      const located = parseLocated(text, file)
      const container = containerOf(located.doc, component.name)
      const image = container?.get('image')
      if (!container || typeof image !== 'string') continue
      const written = splitReference(image)
      const known = written.repository === component.image
      const imageAt = keyAt(located.at, container, 'image') ?? located.at(container) ?? START
      pins.push({
        component: known ? component.name : undefined,
        repository: written.repository,
        name: component.name,
        file,
        ...imageAt,
        at: { entry: located.at(container) ?? imageAt, repository: imageAt, tag: imageAt, digest: null },
        tag: written.tag,
        digest: written.digest,
        separateDigest: undefined,
      })
    }
    return pins
  },

  write(spec, env, readText, update) {
    const written = new Map<string, string>()
    for (const component of spec.components) {
      const { file, doc: existing } = readPatch(env, component, readText)
      const doc = existing ?? parseYamlFile(freshPatch(spec, env, component), file)
      const container = containerOf(doc, component.name)
      if (!container) {
        throw new UsageError(`${file}: no container named ${component.name} under spec.template.spec.containers`, {
          code: 'invalid-image-patch',
          hint: `Delete ${file} and run the command again to regenerate it.`,
        })
      }
      const current = container.get('image')
      const parsed = typeof current === 'string' ? splitImage(current, component.image) : undefined
      let digest: string | undefined
      if (update.pins?.has(component.name)) digest = update.pins.get(component.name)
      else if (parsed?.tag === spec.tag) digest = parsed.digest
      const image = new Scalar(`${component.image}:${formatPinnedTag(spec.tag, digest)}`)
      // Dependabot skips a quoted image string: force plain style even if the file had quotes.
      image.type = Scalar.PLAIN
      container.set('image', image)
      written.set(file, doc.toString({ lineWidth: 0 }))
    }
    return written
  },
}

/** Is this node a plain (unquoted) scalar? Validate's Dependabot rule uses it. */
export function isPlainScalar(node: unknown): boolean {
  return isScalar(node) && (node.type === undefined || node.type === Scalar.PLAIN)
}
