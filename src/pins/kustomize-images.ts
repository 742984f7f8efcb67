import { type Document, isMap, isScalar, isSeq, type YAMLMap, YAMLSeq } from 'yaml'
import { UsageError } from '../cli/errors.js'
import type { RepoSpec } from '../spec/index.js'
import { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
import { keyAt, type LocatedDocument, parseLocated, parseYamlFile, START } from './positions.js'
import type { LocatedPin, PinStore, PinUpdate } from './types.js'

export { parseYamlFile }

/** `environments/<env>/kustomization.yaml` holds the env's pins in its `images:` list. */
export function kustomizationPath(env: string): string {
  return `environments/${env}/kustomization.yaml`
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
    return kustomizeImagePins(spec, parseLocated(text, file), file)
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

/**
 * The `images:` entries of any kustomization as pins (the store reads an environment's; validate reads every
 * kustomization's through this too). Entries without a string `name` are skipped: validate reports their shape.
 */
export function kustomizeImagePins(
  spec: Pick<RepoSpec, 'components'> | undefined,
  located: LocatedDocument,
  file: string,
): LocatedPin[] {
  const images = imagesSeq(located.doc, file)
  if (!images) return []
  const pins: LocatedPin[] = []
  for (const entry of images.items) {
    const name = entryName(entry)
    if (name === undefined) continue
    const map = entry as YAMLMap
    const text = (key: string) => {
      const value = map.get(key)
      return typeof value === 'string' ? value : undefined
    }
    const newTag = text('newTag')
    const separateDigest = text('digest')
    const newName = text('newName')
    const parsed = newTag === undefined ? { tag: undefined, digest: undefined } : parsePinnedTag(newTag)
    const entryAt = located.at(map) ?? START
    const tagAt = newTag === undefined ? null : keyAt(located.at, map, 'newTag')
    pins.push({
      component: spec?.components.find((c) => c.image === name)?.name,
      repository: newName ?? name,
      name,
      file,
      ...(tagAt ?? entryAt),
      at: {
        entry: entryAt,
        repository: keyAt(located.at, map, newName === undefined ? 'name' : 'newName') ?? entryAt,
        tag: tagAt,
        digest: separateDigest === undefined ? null : keyAt(located.at, map, 'digest'),
      },
      tag: parsed.tag,
      digest: parsed.digest ?? separateDigest,
      separateDigest,
    })
  }
  return pins
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
