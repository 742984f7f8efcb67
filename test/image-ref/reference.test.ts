import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatImageRef,
  ImageRefError,
  parseImageRef,
  repository,
  tryParseImageRef,
  withDigest,
  withTag,
} from '../../src/image-ref/index.js'

const D = `sha256:${'a'.repeat(64)}`

describe('parseImageRef: the grammar', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['index.docker.io/acme/app', 'docker.io', 'acme/app', undefined, undefined],
    ['acme/app:v1', 'docker.io', 'acme/app', 'v1', undefined],
    ['quay.io/acme/shop/api', 'quay.io', 'acme/shop/api', undefined, undefined],
    ['quay.io/acme/shop/api:released', 'quay.io', 'acme/shop/api', 'released', undefined],
    [`quay.io/acme/shop/api@${D}`, 'quay.io', 'acme/shop/api', undefined, D],
    [`quay.io/acme/shop/api:released@${D}`, 'quay.io', 'acme/shop/api', 'released', D],
    ['localhost/app', 'localhost', 'app', undefined, undefined],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev', undefined],
    ['127.0.0.1:5000/team/app', '127.0.0.1:5000', 'team/app', undefined, undefined],
    ['[::1]:5000/app:x', '[::1]:5000', 'app', 'x', undefined],
    ['[fe80::1]/app', '[fe80::1]', 'app', undefined, undefined],
    ['Registry/app', 'Registry', 'app', undefined, undefined],
    ['registry.example.com/a__b/c-d/e.f', 'registry.example.com', 'a__b/c-d/e.f', undefined, undefined],
    [`quay.io/a/b:${'t'.repeat(128)}`, 'quay.io', 'a/b', 't'.repeat(128), undefined],
    ['quay.io/a/b:_under', 'quay.io', 'a/b', '_under', undefined],
  ])('%s', (input, registry, path, tag, digest) => {
    const ref = parseImageRef(input)
    expect(ref.registry).toBe(registry)
    expect(ref.path).toBe(path)
    expect(ref.tag).toBe(tag)
    expect(ref.digest).toBe(digest)
  })

  it.each([
    ['', 'reference', 1],
    [' nginx', 'reference', 1],
    ['quay.io/Acme/app', 'path', 9],
    ['quay.io/acme//app', 'path', 14],
    ['quay.io/acme/app/', 'path', 17],
    ['quay.io/-acme/app', 'path', 9],
    [`quay.io/a/b:${'t'.repeat(129)}`, 'tag', 13],
    ['quay.io/a/b:.dot', 'tag', 13],
    ['quay.io/a/b:has space', 'tag', 13],
    ['quay.io/a/b@sha256:abc', 'digest', 13],
    [`quay.io/a/b@sha256:${'A'.repeat(64)}`, 'digest', 13],
    [`quay.io/a/b@sha256:${'a'.repeat(63)}`, 'digest', 13],
    [`quay.io/a/b@md5${'a'.repeat(32)}`, 'digest', 13],
    ['quay.io:99999/a', 'registry', 1],
    ['quay.io:port/a', 'registry', 1],
    ['-bad.io/a', 'registry', 1],
    ['[::1/a', 'registry', 1],
    ['[zz::1]/a', 'registry', 1],
    [`quay.io/${'a'.repeat(250)}`, 'path', 9],
  ])('rejects %j naming the %s at character %i', (input, part, character) => {
    let caught: unknown
    try {
      parseImageRef(input)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ImageRefError)
    const error = caught as ImageRefError
    expect(error.part).toBe(part)
    expect(error.position + 1).toBe(character)
    expect(error.message).toContain(`${part} at character ${character}`)
    expect(error.exit).toBe(2)
  })

  it('says the path must be lowercase when that is the only problem', () => {
    expect(() => parseImageRef('quay.io/acme/API')).toThrow(/"API" must be lowercase/)
  })

  it('tryParseImageRef returns undefined instead of throwing', () => {
    expect(tryParseImageRef('UPPER')).toBeUndefined()
    expect(tryParseImageRef('nginx')?.path).toBe('library/nginx')
  })
})

describe('helpers', () => {
  const ref = parseImageRef(`quay.io/acme/shop/api:released@${D}`)
  it('repository drops tag and digest', () => {
    expect(repository(ref)).toBe('quay.io/acme/shop/api')
  })
  it('withTag keeps the digest; withDigest keeps the tag', () => {
    expect(formatImageRef(withTag(ref, 'validated'))).toBe(`quay.io/acme/shop/api:validated@${D}`)
    const other = `sha256:${'b'.repeat(64)}`
    expect(formatImageRef(withDigest(ref, other))).toBe(`quay.io/acme/shop/api:released@${other}`)
    expect(formatImageRef(withDigest(withTag(ref, undefined), undefined))).toBe('quay.io/acme/shop/api')
  })
  it('withTag rejects a tag the grammar rejects', () => {
    expect(() => withTag(ref, 'bad tag')).toThrow(ImageRefError)
  })
})

// Generators that follow the grammar, to check that formatting and parsing agree on every valid reference.
const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/)
const separator = fc.constantFrom('.', '_', '__', '-', '--')
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 2 }))
  .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''))
// A first component with "." names a registry, so Docker Hub short names are generated without one.
const hubComponent = pathComponent.filter((component) => !component.includes('.'))
const domainLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/)
const host = fc.oneof(
  fc.tuple(domainLabel, domainLabel).map(([a, b]) => `${a}.${b}`),
  fc.constant('localhost'),
  fc.constant('[::1]'),
  fc.tuple(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `${a}.0.0.${b}`),
)
const registryGen = fc
  .tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
  .map(([h, port]) => (port === undefined ? h : `${h}:${port}`))
const tagGen = fc.stringMatching(/^[\w][\w.-]{0,20}$/)
const digestGen = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`)

describe('property: format(parse(x)) is stable', () => {
  it('round-trips every generated reference with an explicit registry', () => {
    fc.assert(
      fc.property(
        registryGen,
        fc.array(pathComponent, { minLength: 1, maxLength: 4 }),
        fc.option(tagGen, { nil: undefined }),
        fc.option(digestGen, { nil: undefined }),
        (registry, path, tag, digest) => {
          const text = `${registry}/${path.join('/')}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`
          const ref = parseImageRef(text)
          expect(ref.path).toBe(path.join('/'))
          expect(ref.tag).toBe(tag)
          expect(ref.digest).toBe(digest)
          expect(formatImageRef(ref)).toBe(registry === 'index.docker.io' ? text.replace('index.', '') : text)
          expect(parseImageRef(formatImageRef(ref))).toEqual(ref)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('normalises Docker Hub short names and stays idempotent', () => {
    fc.assert(
      fc.property(
        fc.array(hubComponent, { minLength: 1, maxLength: 2 }),
        fc.option(tagGen, { nil: undefined }),
        (path, tag) => {
          const text = `${path.join('/')}${tag ? `:${tag}` : ''}`
          const ref = parseImageRef(text)
          expect(ref.registry).toBe('docker.io')
          expect(ref.path).toBe(path.length === 1 ? `library/${path[0]}` : path.join('/'))
          expect(parseImageRef(formatImageRef(ref))).toEqual(ref)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never throws anything but ImageRefError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseImageRef(text)
        } catch (error) {
          expect(error).toBeInstanceOf(ImageRefError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
