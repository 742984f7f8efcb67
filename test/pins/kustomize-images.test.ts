import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { formatPinnedTag, kustomizeImagesStore, parsePinnedTag, pinStoreFor } from '../../src/pins/index.js'
import type { RepoSpec } from '../../src/spec/index.js'
import { shopSpec } from '../helpers/spec.js'

const spec: RepoSpec = shopSpec()
const FILE = 'environments/prod/kustomization.yaml'
const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`

function write(text: string | undefined, update: Parameters<typeof kustomizeImagesStore.write>[3] = {}, s = spec) {
  return kustomizeImagesStore.write(s, 'prod', (path) => (path === FILE ? text : undefined), update).get(FILE)!
}

describe('kustomize images: the pin seam', () => {
  it('writes newTag: <tag>@<digest>, never newTag beside digest', () => {
    const out = write(undefined, { pins: new Map([['api', A]]) })
    expect(parse(out).images).toEqual([
      { name: 'quay.io/acme/shop/api', newTag: `released@${A}` },
      { name: 'quay.io/acme/shop/web', newTag: 'released' },
    ])
  })

  it('folds a separate digest: into newTag, and reads both forms back', () => {
    const text = `images:\n  - name: quay.io/acme/shop/api\n    newTag: released\n    digest: ${A}\n`
    const read = kustomizeImagesStore.read(spec, 'prod', () => text)
    expect(read[0]).toMatchObject({ component: 'api', tag: 'released', digest: A, file: FILE })
    const out = parse(write(text))
    expect(out.images[0]).toEqual({ name: 'quay.io/acme/shop/api', newTag: `released@${A}` })
  })

  it('keeps comments, other keys, unknown images and their order; drops removed components', () => {
    const text = [
      '# prod: reviewed by the SRE team',
      'namespace: shop-prod',
      'images:',
      '  # pinned by Renovate',
      `  - name: quay.io/acme/shop/web`,
      `    newTag: released@${B} # last promoted Monday`,
      '  - name: docker.io/library/redis',
      '    newTag: "7.4"',
      '  - name: quay.io/acme/shop/old',
      '    newTag: released',
      'patches:',
      '  - path: replicas.yaml',
      '',
    ].join('\n')
    const out = write(text, { removeRepositories: ['quay.io/acme/shop/old'] })
    expect(out).toContain('# prod: reviewed by the SRE team')
    expect(out).toContain('# pinned by Renovate')
    expect(out).toContain(`newTag: released@${B} # last promoted Monday`)
    expect(out).toContain('patches:\n  - path: replicas.yaml')
    const images = parse(out).images.map((i: { name: string }) => i.name)
    expect(images).toEqual(['quay.io/acme/shop/web', 'docker.io/library/redis', 'quay.io/acme/shop/api'])
  })

  it('drops a digest that belonged to another tag', () => {
    const text = `images:\n  - name: quay.io/acme/shop/api\n    newTag: candidate@${A}\n`
    expect(parse(write(text)).images[0].newTag).toBe('released')
  })

  it('an explicit pin replaces the current digest', () => {
    const text = `images:\n  - name: quay.io/acme/shop/api\n    newTag: released@${A}\n`
    expect(parse(write(text, { pins: new Map([['api', B]]) })).images[0].newTag).toBe(`released@${B}`)
  })

  it('is idempotent: writing its own output changes nothing', () => {
    fc.assert(
      fc.property(fc.subarray(['api', 'web']), fc.constantFrom(A, B), fc.boolean(), (pinned, digest, extraImage) => {
        const start = extraImage ? 'images:\n  - name: docker.io/library/redis\n    newTag: "7"\n' : undefined
        const once = write(start, { pins: new Map(pinned.map((c) => [c, digest])) })
        expect(write(once)).toBe(once)
        for (const pin of kustomizeImagesStore.read(spec, 'prod', () => once)) {
          if (pin.component && pinned.includes(pin.component)) expect(pin.digest).toBe(digest)
        }
      }),
    )
  })

  it('names the file when images: is not a list', () => {
    expect(() => write('images: quay.io/acme/shop/api\n')).toThrow(`${FILE}: images: must be a list`)
  })

  it('pinned-tag helpers round-trip', () => {
    expect(parsePinnedTag(`released@${A}`)).toEqual({ tag: 'released', digest: A })
    expect(parsePinnedTag('released')).toEqual({ tag: 'released', digest: undefined })
    expect(formatPinnedTag('released', A)).toBe(`released@${A}`)
  })

  it('is the store of a kustomize repo kept by Renovate (other shapes: test/pins/shapes.test.ts)', () => {
    expect(pinStoreFor(spec)).toBe(kustomizeImagesStore)
  })
})
