import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { gnuDateFormat, parseMapping, planRelease, renderTag } from '../../src/release/index.js'
import { parseSnapshot } from '../../src/snapshot/index.js'
import { ROOT } from '../helpers/cli.js'

const fixtures = join(ROOT, 'test', 'fixtures', 'konflux')
const passed = async () =>
  parseSnapshot(await readFile(join(fixtures, 'snapshot-passed.yaml'), 'utf8'), 'snapshot-passed.yaml')
const releaseTime = new Date('2026-11-27T10:00:00Z')
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'

describe('planRelease', () => {
  test('without a mapping: same repository, tag released', async () => {
    const plan = planRelease({ snapshot: await passed(), releaseTime })
    expect(plan.retags.map((r) => `${r.component} ${r.target.registry}/${r.target.path}:${r.tag}`)).toEqual([
      'api quay.io/redhat-user-workloads/acme-tenant/shop/api:released',
      'web quay.io/redhat-user-workloads/acme-tenant/shop/web:released',
    ])
    expect(plan.retags[0]!.source).toEqual({
      registry: 'quay.io',
      path: 'redhat-user-workloads/acme-tenant/shop/api',
      digest: API_DIGEST,
    })
  })

  test('the Konflux ReleasePlan fixture: defaults.tags are added to a component’s own tags, sorted as jq sorts', async () => {
    const mapping = parseMapping(
      await readFile(join(fixtures, 'releaseplan-mapping.yaml'), 'utf8'),
      'releaseplan-mapping.yaml',
    )
    const plan = planRelease({
      snapshot: await passed(),
      mapping,
      releaseTime,
      imageFacts: { web: { buildDate: '2026-11-24T09:10:00Z', labels: {} } },
    })
    expect(plan.retags.map((r) => `${r.component}:${r.tag}`)).toEqual([
      'api:released',
      'api:4f2a9c0',
      'web:released',
      `web:web-${Date.parse('2026-11-24T09:10:00Z') / 1000}`,
      'web:8b3c1d5e7f9a0b2c4d6e8f0a1b3c5d7e9f0a2b4c',
      'web:8b3c1d5',
    ])
  })

  test('--tag replaces defaults.tags; a component’s own tags add to them; duplicates collapse', async () => {
    const mapping = parseMapping(
      'components:\n  - {name: api, repository: quay.io/acme/prod/api}\n  - {name: web, repository: quay.io/acme/prod/web, tags: [stable, stable]}\n',
      'm.yaml',
    )
    const plan = planRelease({
      snapshot: await passed(),
      mapping,
      tags: ['validated', 'sha-{{ digest_sha }}'],
      releaseTime,
    })
    expect(plan.retags.map((r) => `${r.target.path}:${r.tag}`)).toEqual([
      `acme/prod/api:sha-${API_DIGEST.slice(7)}`,
      'acme/prod/api:validated',
      expect.stringMatching(/^acme\/prod\/web:sha-/),
      'acme/prod/web:stable',
      'acme/prod/web:validated',
    ])
  })

  test('components missing from the mapping are skipped and reported', async () => {
    const mapping = parseMapping('components:\n  - {name: web, repository: quay.io/a/web, tags: [x]}\n', 'm.yaml')
    const plan = planRelease({ snapshot: await passed(), mapping, releaseTime })
    expect(plan.retags.map((r) => r.component)).toEqual(['web'])
    expect(plan.skipped).toEqual([{ component: 'api', reason: 'not in the mapping (m.yaml)' }])
  })

  test('a mapping without components (the releaser config shorthand): its defaults in each image’s own repository', async () => {
    const mapping = parseMapping('defaults: {tags: [x, "{{ git_short_sha }}"]}\n', 'd.yaml')
    const plan = planRelease({ snapshot: await passed(), mapping, releaseTime })
    expect(plan.retags.map((r) => `${r.target.path}:${r.tag}`)).toEqual([
      'redhat-user-workloads/acme-tenant/shop/api:x',
      'redhat-user-workloads/acme-tenant/shop/api:4f2a9c0',
      'redhat-user-workloads/acme-tenant/shop/web:x',
      'redhat-user-workloads/acme-tenant/shop/web:8b3c1d5',
    ])
  })

  test('an entry with neither repository nor repositories is refused before anything moves; no tags at all means released', async () => {
    const snap = await passed()
    expect(() =>
      planRelease({
        snapshot: snap,
        mapping: parseMapping('components:\n  - {name: web, tags: [x]}\n', 'm.yaml'),
        releaseTime,
      }),
    ).toThrow(/m\.yaml: components\[0\] \(web\): names neither repository nor repositories/)
    expect(() =>
      planRelease({
        snapshot: snap,
        mapping: parseMapping('components:\n  - {name: web, repository: quay.io/a/web}\n', 'm.yaml'),
        releaseTime,
      }),
    ).not.toThrow()
  })

  test('repositories[] fan out: defaults + componentTags + each entry’s own tags; the component’s tags do not apply', async () => {
    const mapping = parseMapping(
      'defaults: {tags: [d]}\ncomponents:\n  - name: api\n    tags: [ignored]\n    componentTags: [c]\n    repositories:\n      - {url: quay.io/a/api, tags: [x]}\n      - {url: registry.example.com/b/api}\n',
      'm.yaml',
    )
    const plan = planRelease({ snapshot: await passed(), mapping, releaseTime })
    expect(plan.retags.map((r) => `${r.target.registry}/${r.target.path}:${r.tag}`)).toEqual([
      'quay.io/a/api:c',
      'quay.io/a/api:d',
      'quay.io/a/api:x',
      'registry.example.com/b/api:c',
      'registry.example.com/b/api:d',
    ])
  })

  test('a template that renders an invalid tag is a usage error naming component and template', async () => {
    const mapping = parseMapping(
      'defaults: {tags: ["v{{ git_sha }}/x"]}\ncomponents: [{name: api, repository: quay.io/a/api}]\n',
      'bad.yaml',
    )
    const snap = await passed()
    expect(() => planRelease({ snapshot: snap, mapping, releaseTime })).toThrow(
      /component api: tag "v\{\{ git_sha \}\}\/x": .* is not a valid tag/,
    )
    const unknown = parseMapping(
      'defaults: {tags: ["{{ nope }}"]}\ncomponents: [{name: api, repository: quay.io/a/api}]\n',
      'bad.yaml',
    )
    expect(() => planRelease({ snapshot: snap, mapping: unknown, releaseTime })).toThrow(
      /\{\{ nope \}\} is not a known placeholder/,
    )
  })

  test('a target repository with a tag is refused, naming the file and entry', async () => {
    const mapping = parseMapping(
      'components:\n  - {name: api, repository: "quay.io/a/api:latest", tags: [x]}\n',
      'm.yaml',
    )
    const snap = await passed()
    expect(() => planRelease({ snapshot: snap, mapping, releaseTime })).toThrow(
      /m\.yaml: components\[0\] \(api\): "quay.io\/a\/api:latest" must be a repository without tag or digest/,
    )
  })
})

describe('component versions', () => {
  const twoVersions = (mapping: string) => {
    const snapshot = parseSnapshot(
      JSON.stringify({
        apiVersion: 'appstudio.redhat.com/v1alpha1',
        kind: 'Snapshot',
        metadata: { name: 's' },
        spec: {
          componentGroup: 'shop',
          components: [
            { name: 'api', version: 'v1', containerImage: `quay.io/a/api@sha256:${'1'.repeat(64)}` },
            { name: 'api', version: 'v2', containerImage: `quay.io/a/api@sha256:${'2'.repeat(64)}` },
          ],
        },
      }),
      's.json',
    )
    return planRelease({ snapshot, mapping: parseMapping(mapping, 'm.yaml'), releaseTime })
  }
  test('each version is planned with its own digest', () => {
    const plan = twoVersions('components: [{name: api, repository: quay.io/p/api, tags: ["d-{{ digest_sha }}"]}]')
    expect(plan.retags.map((r) => `${r.tag.slice(0, 3)} ${r.source.digest.slice(7, 8)}`)).toEqual(['d-1 1', 'd-2 2'])
  })
  test('two versions on one tag are refused, naming both images', () => {
    expect(() => twoVersions('components: [{name: api, repository: quay.io/p/api, tags: [released]}]')).toThrow(
      /quay.io\/p\/api:released would get two images: api \(quay.io\/a\/api@sha256:1+\) and api \(quay.io\/a\/api@sha256:2+\)/,
    )
  })
})

describe('parseMapping', () => {
  test('reads a ReleasePlanAdmission and a {mapping:} wrapper, refuses a ReleasePlan without mapping', () => {
    const rpa = parseMapping(
      'apiVersion: appstudio.redhat.com/v1alpha1\nkind: ReleasePlanAdmission\nspec:\n  data:\n    mapping:\n      defaults: {tags: [x], timestampFormat: "%Y%m%d"}\n',
      'rpa.yaml',
    )
    expect(rpa).toMatchObject({ defaultTags: ['x'], timestampFormat: '%Y%m%d' })
    expect(parseMapping('mapping:\n  defaults: {tags: [y]}\n', 'w.yaml').defaultTags).toEqual(['y'])
    expect(() => parseMapping('kind: ReleasePlan\nspec: {application: shop}\n', 'rp.yaml')).toThrow(
      /rp\.yaml: ReleasePlan has no spec\.data\.mapping/,
    )
    expect(() => parseMapping('components: [{name: api, tags: 3}]\n', 'x.yaml')).toThrow(/x\.yaml: components\.0\.tags/)
    expect(() => parseMapping('components: [{name: a}, {name: a}]\n', 'x.yaml')).toThrow(/"a" is listed twice/)
  })
})

describe('tag templates', () => {
  const values = {
    gitSha: '4f2a9c0d1e3b5a7968f0c1d2e3f4a5b6c7d8e9f0',
    digest: API_DIGEST,
    buildDate: '2026-01-02T03:04:05Z',
    releaseTime,
    timestampFormat: '%Y%m%d-%H%M%S',
  }
  test('placeholders render as Konflux does', () => {
    expect(renderTag('{{git_short_sha}}', values)).toBe('4f2a9c0')
    expect(renderTag('{{ timestamp }}', values)).toBe('20260102-030405')
    expect(renderTag('r-{{ release_timestamp }}', values)).toBe('r-20261127-100000')
    expect(renderTag('v{{ labels.version }}', { ...values, labels: { version: '1.4.2' } })).toBe('v1.4.2')
    expect(() => renderTag('{{ labels.version }}', values)).toThrow(/the image has no label "version"/)
    expect(gnuDateFormat(new Date(0), '%s')).toBe('0')
    expect(() => renderTag('{{ timestamp }}', { ...values, timestampFormat: '%Q' })).toThrow(/"%Q" is not a valid tag/)
  })
  test('any rendered tag matches ^[a-zA-Z0-9._-]+$ or is refused', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (template) => {
        let tag: string
        try {
          tag = renderTag(template, values)
        } catch {
          return true
        }
        return /^[a-zA-Z0-9._-]+$/.test(tag) && tag.length <= 128
      }),
    )
  })
})
