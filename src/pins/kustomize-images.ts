import { type Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, YAMLSeq } from 'yaml'
import { UsageError } from '../cli/errors.js'
import type { RepoSpec } from '../spec/index.js'
import { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
import type { ComponentPin, PinStore, PinUpdate } from './types.js'

/** `environments/<env>/kustomization.yaml` holds the env's pins in its `images:` list. */
export function kustomizationPath(env: string): string {
  return `environments/${env}/kustomization.yaml`
}

export function parseYamlFile(text: string, file: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true })
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const pos = first.linePos?.[0]
    throw new UsageError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first.message.split('\n')[0]}`, {
      code: 'invalid-yaml',
      hint: `Fix the YAML syntax in ${file}, then run the command again.`,
    })
  }
  return doc
}

function imagesSeq(doc: Document, file: string): YAMLSeq | undefined {
  const images = doc.get('images', true)
  if (images === undefined || images === null || (isScalar(images) && images.value === null)) return undefined
  if (!isSeq(images)) throw new UsageError(`${file}: images: must be a list`, { code: 'invalid-kustomization' })
  return images
}

function entryName(entry: unknown): string | undefined {
  if (!isMap(entry)) return undefined
  const name = entry.get('name')
  return typeof name === 'string' ? name : undefined
}

/**
 * Kustomize `images:` entries, written as `newTag: <tag>@sha256:<hex>`. A separate `digest:` beside `newTag` is
 * never written: Renovate skips such an entry and kustomize ignores the tag.
 */
export const kustomizeImagesStore: PinStore = {
  shape: 'kustomize-images',

  files(_spec, env) {
    return [kustomizationPath(env)]
  },

  read(spec, env, readText) {
    const file = kustomizationPath(env)
    const text = readText(file)
    if (text === undefined) return []
    const doc = parseYamlFile(text, file)
    const images = imagesSeq(doc, file)
    if (!images) return []
    const pins: ComponentPin[] = []
    for (const entry of images.items) {
      const name = entryName(entry)
      if (name === undefined) continue
      const component = spec.components.find((c) => c.image === name)
      const map = entry as YAMLMap
      const newTag = map.get('newTag')
      const digest = map.get('digest')
      const parsed = typeof newTag === 'string' ? parsePinnedTag(newTag) : { tag: undefined, digest: undefined }
      pins.push({
        component: component?.name,
        repository: name,
        file,
        tag: parsed.tag,
        digest: parsed.digest ?? (typeof digest === 'string' ? digest : undefined),
      })
    }
    return pins
  },

  write(spec, env, readText, update) {
    const file = kustomizationPath(env)
    const text = readText(file) ?? ''
    const doc = parseYamlFile(text, file)
    if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents
    let images = imagesSeq(doc, file)
    if (!images) {
      images = new YAMLSeq()
      doc.set('images', images)
    }
    applyUpdate(doc, images, spec, update)
    // A fresh `images: []` is flow style; entries read better one per line, as Renovate writes them.
    if (images.items.length > 0) images.flow = false
    return new Map([[file, doc.toString({ lineWidth: 0 })]])
  },
}

function applyUpdate(doc: Document, images: YAMLSeq, spec: RepoSpec, update: PinUpdate): void {
  const removed = new Set(update.removeRepositories ?? [])
  images.items = images.items.filter((entry) => {
    const name = entryName(entry)
    return name === undefined || !removed.has(name)
  })
  for (const component of spec.components) {
    const wanted = update.pins?.get(component.name)
    let entry = images.items.find((item) => entryName(item) === component.image) as YAMLMap | undefined
    if (!entry) {
      entry = doc.createNode({ name: component.image }) as YAMLMap
      images.items.push(entry)
    }
    const current = entry.get('newTag')
    const separateDigest = entry.get('digest')
    const parsed = typeof current === 'string' ? parsePinnedTag(current) : { tag: undefined, digest: undefined }
    let digest: string | undefined
    if (wanted !== undefined) digest = wanted
    else if (parsed.tag === spec.tag)
      digest = parsed.digest ?? (typeof separateDigest === 'string' ? separateDigest : undefined)
    // A digest kept from an older tag would deploy an image the new tag never pointed at: drop it.
    entry.set('newTag', formatPinnedTag(spec.tag, digest))
    entry.delete('digest')
    entry.delete('newName')
  }
}
