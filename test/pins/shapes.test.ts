import { describe, expect, it } from 'vitest'
import { parseDocument } from 'yaml'
import {
  helmValuesStore,
  kustomizeImagesStore,
  manifestPatchesStore,
  type PinStore,
  pinStoreFor,
} from '../../src/pins/index.js'
import type { RepoSpec } from '../../src/spec/index.js'
import { shopSpec } from '../helpers/spec.js'

const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`

const SHAPES: { name: string; store: PinStore; spec: RepoSpec }[] = [
  { name: 'kustomize images', store: kustomizeImagesStore, spec: shopSpec() },
  { name: 'manifest patches', store: manifestPatchesStore, spec: shopSpec({ updater: 'dependabot' }) },
  { name: 'helm values', store: helmValuesStore, spec: shopSpec({ flavour: 'helm' }) },
]

/** Apply a write to an in-memory tree, as the commands do on disk. */
function apply(tree: Map<string, string>, written: Map<string, string>): void {
  for (const [path, text] of written) tree.set(path, text)
}

describe.each(SHAPES)('pin store: $name', ({ store, spec }) => {
  const pinsOf = (tree: Map<string, string>, s = spec) =>
    Object.fromEntries(
      store
        .read(s, 'prod', (p) => tree.get(p))
        .map((pin) => [pin.component ?? pin.repository, `${pin.tag}@${pin.digest}`]),
    )

  it('is the store pinStoreFor picks for its spec', () => {
    expect(pinStoreFor(spec)).toBe(store)
  })

  it('writes every component, reads back what it wrote, and keeps other pins while the tag is unchanged', () => {
    const tree = new Map<string, string>()
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['api', A]]) }),
    )
    expect(pinsOf(tree)).toEqual({ api: `released@${A}`, web: 'released@undefined' })
    for (const path of store.files(spec, 'prod')) expect(tree.has(path), path).toBe(true)
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['web', B]]) }),
    )
    expect(pinsOf(tree)).toEqual({ api: `released@${A}`, web: `released@${B}` })
    // A second identical write changes nothing.
    const again = store.write(spec, 'prod', (p) => tree.get(p), {})
    for (const [path, text] of again) expect(text, path).toBe(tree.get(path))
  })

  it('drops a digest when the tag changes, so an old digest never rides on a new tag', () => {
    const tree = new Map<string, string>()
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['api', A]]) }),
    )
    const candidate = { ...spec, tag: 'candidate' }
    apply(
      tree,
      store.write(candidate, 'prod', (p) => tree.get(p), {}),
    )
    expect(pinsOf(tree, candidate).api).toBe('candidate@undefined')
  })

  it("keeps the user's comments and extra keys", () => {
    const tree = new Map<string, string>()
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), {}),
    )
    const file = store.files(spec, 'prod')[0]!
    tree.set(file, `# our note\n${tree.get(file)}extra: kept # why\n`)
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['api', A]]) }),
    )
    expect(tree.get(file)).toContain('# our note')
    expect(tree.get(file)).toContain('extra: kept # why')
    expect(parseDocument(tree.get(file)!).errors).toEqual([])
  })
})

describe('shape-specific forms the updaters need', () => {
  it('manifest patches write an unquoted image: even where the user had quoted it', () => {
    const { spec } = SHAPES[1]!
    const tree = new Map<string, string>()
    apply(
      tree,
      manifestPatchesStore.write(spec, 'prod', (p) => tree.get(p), {}),
    )
    const file = 'environments/prod/images/api.yaml'
    tree.set(file, tree.get(file)!.replace(/image: (\S+)\n/, 'image: "$1"\n'))
    apply(
      tree,
      manifestPatchesStore.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['api', A]]) }),
    )
    expect(tree.get(file)).toContain(`\n          image: quay.io/acme/shop/api:released@${A}\n`)
  })

  it('helm values keep the digest inside tag and drop components whose image left the spec', () => {
    const { spec } = SHAPES[2]!
    const tree = new Map<string, string>()
    apply(
      tree,
      helmValuesStore.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['web', B]]) }),
    )
    expect(tree.get('environments/prod/values.yaml')).toContain(`tag: "released@${B}"`)
    const without = { ...spec, components: spec.components.filter((c) => c.name !== 'web') }
    apply(
      tree,
      helmValuesStore.write(without, 'prod', (p) => tree.get(p), { removeRepositories: ['quay.io/acme/shop/web'] }),
    )
    expect(tree.get('environments/prod/values.yaml')).not.toContain('shop/web')
  })
})

describe('read: position and repository as written', () => {
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1

  it.each(SHAPES)('$name: a foreign repository and its tag, with the lines they are on', ({ store, spec }) => {
    const tree = new Map<string, string>()
    apply(
      tree,
      store.write(spec, 'prod', (p) => tree.get(p), { pins: new Map([['api', A]]) }),
    )
    const file = store.files(spec, 'prod')[0]!
    const text = tree.get(file)!
    const evil =
      store.shape === 'kustomize-images'
        ? text.replace(
            `- name: quay.io/acme/shop/api\n    newTag: released@${A}`,
            `- name: quay.io/acme/shop/api\n    newName: quay.io/evil/api\n    newTag: latest`,
          )
        : store.shape === 'helm-values'
          ? text.replace(
              `repository: quay.io/acme/shop/api\n      tag: "released@${A}"`,
              'repository: quay.io/evil/api\n      tag: "latest"',
            )
          : text.replace(`image: quay.io/acme/shop/api:released@${A}`, 'image: quay.io/evil/api:latest')
    expect(evil).not.toBe(text)
    tree.set(file, evil)
    const pin = store
      .read(spec, 'prod', (p) => tree.get(p))
      .find((p) => p.name === 'api' || p.name === 'quay.io/acme/shop/api')
    expect(pin).toMatchObject({ repository: 'quay.io/evil/api', tag: 'latest', digest: undefined, file })
    const repositoryNeedle =
      store.shape === 'kustomize-images'
        ? 'newName:'
        : store.shape === 'helm-values'
          ? 'repository:'
          : 'image: quay.io/evil'
    const tagNeedle =
      store.shape === 'kustomize-images' ? 'newTag:' : store.shape === 'helm-values' ? 'tag:' : 'image: quay.io/evil'
    expect(pin!.at.repository.line).toBe(lineOf(evil, repositoryNeedle))
    expect(pin!.line).toBe(lineOf(evil, tagNeedle))
    expect(pin!.column).toBeGreaterThan(1)
  })
})
