import { type Document, isMap, isScalar, type Node, Scalar, type YAMLMap } from 'yaml'
import { UsageError } from '../cli/errors.js'
import type { RepoSpec } from '../spec/index.js'
import { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
import { keyAt, mapAt, parseLocated, parseYamlFile, START } from './positions.js'
import type { LocatedPin, PinStore, PinUpdate } from './types.js'

/**
 * `environments/<env>/values.yaml`: the name both updaters look for by default (Renovate's helm-values reads only
 * values.y?ml, Dependabot any values*.yaml in a listed directory).
 */
export function helmValuesPath(env: string): string {
  return `environments/${env}/values.yaml`
}

/** Top-level key of the values file; the chart ranges over it. */
export const HELM_COMPONENTS_KEY = 'components'

function componentsMap(doc: Document, file: string): YAMLMap | undefined {
  const node = doc.get(HELM_COMPONENTS_KEY, true)
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined
  if (!isMap(node)) {
    throw new UsageError(`${file}: ${HELM_COMPONENTS_KEY}: must be a mapping of component name to values`, {
      code: 'invalid-helm-values',
      hint: `Write ${HELM_COMPONENTS_KEY}: {<component>: {image: {repository: …, tag: …}}} in ${file}.`,
    })
  }
  return node
}

function stringAt(map: YAMLMap, path: readonly string[]): string | undefined {
  const value = map.getIn(path)
  return typeof value === 'string' ? value : undefined
}

/**
 * Helm values, per component `image: {repository, tag: "<tag>@sha256:<hex>"}`. The digest sits inside `tag`
 * because Renovate's helm-values manager never reads a separate `digest:` key, and Dependabot reads the same form.
 */
export const helmValuesStore: PinStore = {
  shape: 'helm-values',

  files(_spec, env) {
    return [helmValuesPath(env)]
  },

  read(spec, env, readText) {
    const file = helmValuesPath(env)
    const text = readText(file)
    if (text === undefined) return []
    const located = parseLocated(text, file)
    const components = componentsMap(located.doc, file)
    if (!components) return []
    const pins: LocatedPin[] = []
    for (const pair of components.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      if (!isMap(pair.value)) continue
      const image = mapAt(pair.value, ['image'])
      const repository = stringAt(pair.value, ['image', 'repository'])
      if (!image || repository === undefined) continue
      const tag = stringAt(pair.value, ['image', 'tag'])
      const separateDigest = stringAt(pair.value, ['image', 'digest'])
      const parsed = tag === undefined ? { tag: undefined, digest: undefined } : parsePinnedTag(tag)
      const component = spec.components.find((c) => c.name === key && c.image === repository)
      const entryAt = located.at(pair.key) ?? START
      const tagAt = tag === undefined ? null : keyAt(located.at, image, 'tag')
      pins.push({
        component: component?.name,
        repository,
        name: key,
        file,
        ...(tagAt ?? entryAt),
        at: {
          entry: entryAt,
          repository: keyAt(located.at, image, 'repository') ?? entryAt,
          tag: tagAt,
          digest: separateDigest === undefined ? null : keyAt(located.at, image, 'digest'),
        },
        tag: parsed.tag,
        // The chart renders repository:tag only: a digest: key beside it deploys nothing.
        digest: parsed.digest,
        separateDigest,
      })
    }
    return pins
  },

  write(spec, env, readText, update) {
    const file = helmValuesPath(env)
    const doc = parseYamlFile(readText(file) ?? '', file)
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
      doc.contents = doc.createNode({}) as unknown as typeof doc.contents
    }
    if (!isMap(doc.contents)) {
      throw new UsageError(`${file}: must be a YAML mapping (Helm values)`, {
        code: 'invalid-helm-values',
        hint: `Fix ${file} or delete it and run the command again to regenerate it.`,
      })
    }
    let components = componentsMap(doc, file)
    if (!components) {
      components = doc.createNode({}) as YAMLMap
      doc.set(HELM_COMPONENTS_KEY, components)
    }
    // A fresh `components: {}` is flow style, and so would be everything added under it: one key per line reads better.
    if (components.items.length === 0) components.flow = false
    applyUpdate(doc, components, spec, update)
    return new Map([[file, doc.toString({ lineWidth: 0 })]])
  },
}

function applyUpdate(doc: Document, components: YAMLMap, spec: RepoSpec, update: PinUpdate): void {
  const removed = new Set(update.removeRepositories ?? [])
  components.items = components.items.filter((pair) => {
    if (!isMap(pair.value)) return true
    const repository = stringAt(pair.value, ['image', 'repository'])
    return repository === undefined || !removed.has(repository)
  })
  for (const component of spec.components) {
    const current = components.get(component.name, true) as Node | undefined
    const entry: YAMLMap = isMap(current) ? current : (doc.createNode({}) as YAMLMap)
    if (!isMap(current)) components.set(component.name, entry)
    const repository = stringAt(entry, ['image', 'repository'])
    const tag = stringAt(entry, ['image', 'tag'])
    const parsed = tag === undefined ? { tag: undefined, digest: undefined } : parsePinnedTag(tag)
    let digest: string | undefined
    if (update.pins?.has(component.name)) digest = update.pins.get(component.name)
    // Another repository or tag than the spec's: a kept digest would deploy an image the new tag never named.
    else if (repository === component.image && parsed.tag === spec.tag) digest = parsed.digest
    if (!isMap(entry.get('image', true))) entry.set('image', doc.createNode({}))
    entry.setIn(['image', 'repository'], component.image)
    // Quoted like the charts Renovate and Dependabot are tested against; a plain scalar would read the same.
    const pinned = new Scalar(formatPinnedTag(spec.tag, digest))
    pinned.type = Scalar.QUOTE_DOUBLE
    entry.setIn(['image', 'tag'], pinned)
  }
}
