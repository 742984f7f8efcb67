/**
 * release-service-catalog's own apply-mapping test cases (tasks/managed/apply-mapping/tests/, read at the catalog
 * revisions noted per case), ported as facts: the mapping, the images' labels and the repositories' existing tags
 * its mocks give, and the tags its checks expect. `konflux` is what the catalog's test asserts; where its mocks make
 * that differ from what GNU date would really print, `expected` says what Konflux really gives and `note` why.
 * Digests are 64 hex digits here (the catalog's mocks use `sha256:123456`, which is not a digest).
 */
import { describe, expect, test } from 'vitest'
import { parseMapping, planRelease } from '../../src/release/index.js'
import { parseSnapshot } from '../../src/snapshot/index.js'

const DIGEST = `sha256:${'123456'.padEnd(64, '0')}`
const HEX = DIGEST.slice(7)
/** The catalog's `date "+%Y%m%d %T"` mock: the release time. */
const RELEASE_TIME = new Date('1980-01-01T00:00:00Z')

/** The catalog mock's `skopeo inspect` answers, per source image. */
const IMAGES: Record<string, { buildDate?: string; labels: Record<string, string>; ociVersion?: string }> = {
  'registry.io/labels': {
    buildDate: '2024-07-29T02:17:29',
    labels: {
      'build-date': '2024-07-29T02:17:29',
      Goodlabel: 'labelvalue',
      'Goodlabel.with-dash': 'labelvalue-with-dash',
      Badlabel: 'label with space',
    },
  },
  // Labels without build-date; config Created.
  'registry.io/onlycreated': {
    buildDate: '2024-07-29T02:17:29',
    labels: { 'not-a-build-date': '2024-07-29T02:17:29' },
  },
  'registry.io/badimage': { buildDate: undefined, labels: { 'not-a-build-date': '2024-07-29T02:17:29' } },
  'registry.io/image': {
    buildDate: '2024-07-29T02:17:29',
    labels: { 'org.opencontainers.image.version': '2.0.1+alpha' },
    ociVersion: '2.0.1+alpha',
  },
  // A Helm chart: no labels, version and created from the manifest annotations.
  'quay.io/myorg/helm-chart': { buildDate: '2024-07-29T02:17:29Z', labels: {}, ociVersion: '2.0.1+alpha' },
  'quay.io/myorg/web-app': { buildDate: '2024-07-29T02:17:29', labels: { 'build-date': '2024-07-29T02:17:29' } },
}

/** The catalog mock's `skopeo list-tags` answers. */
const EXISTING_TAGS: Record<string, string[]> = {
  'registry.io/repo1': ['v2.0.0-4', 'v2.0.0-3', 'v2.0.0-2'],
  'registry.io/repo2': [],
  'registry.io/repo-ci-a': ['v1.0.0-1', 'v1.0.0-3'],
  'registry.io/repo-ci-b': ['v1.0.0-5', 'v1.0.0-2'],
  'registry.io/repo-ci-c': ['v2.0.0-3'],
}

interface Case {
  name: string
  /** Catalog file and the revision it was read at. */
  source: string
  mapping: string
  components: { name: string; image: string; revision?: string }[]
  /** `component → registry/path` → tags, in Konflux's order; or the error. */
  expected: Record<string, Record<string, string[]>> | { error: RegExp }
  /** What the catalog's test asserts, when that is not `expected`. */
  konflux?: Record<string, Record<string, string[]>> | { error: string }
  note?: string
}

const CASES: Case[] = [
  {
    name: 'tag expansion: every placeholder, defaults, per-component timestampFormat, incrementer',
    source: 'test-apply-mapping-tag-expansion.yaml @0253852a',
    mapping: `
defaults: {timestampFormat: "%Y-%m-%d", tags: [defaultTag]}
components:
  - name: comp1
    repository: registry.io/repo1
    tags: ["tag1-{{timestamp}}", "tag2-{{ timestamp }}", "tag3-{{ timestamp }}-{{ git_short_sha }}", "{{git_sha}}",
      "{{ git_sha }}-abc", "{{git_short_sha}}", "{{ git_short_sha }}-bar", "foo-{{digest_sha}}", "{{ digest_sha }}",
      "v2.0.0-{{ incrementer }}", "tag-{{ labels.Goodlabel }}", "tag-{{ labels.Goodlabel.with-dash }}", "tag1-2024-07-29"]
  - name: comp2
    repository: registry.io/repo2
    timestampFormat: "%Y-%m"
    tags: ["tag1-{{timestamp}}", "tag2-{{ release_timestamp }}", "tag4-{{release_timestamp}}",
      "v1.0.0-{{ incrementer }}", "v1-{{ incrementer }}-release"]
  - {name: comp3, repository: registry.io/repo3a}
`,
    components: [
      { name: 'comp1', image: 'registry.io/labels', revision: 'testrevision' },
      { name: 'comp2', image: 'registry.io/onlycreated' },
      { name: 'comp3', image: 'registry.io/image3' },
    ],
    expected: {
      comp1: {
        'registry.io/repo1': [
          'defaultTag',
          `foo-${HEX}`,
          'tag-labelvalue',
          'tag-labelvalue-with-dash',
          'tag1-2024-07-29',
          'tag2-2024-07-29',
          'tag3-2024-07-29-testrev',
          'v2.0.0-5',
          HEX,
          'testrevision-abc',
          'testrev-bar',
          'testrevision',
          'testrev',
        ],
      },
      comp2: {
        'registry.io/repo2': ['defaultTag', 'tag1-2024-07', 'tag2-1980-01', 'tag4-1980-01', 'v1-1-release', 'v1.0.0-1'],
      },
      comp3: { 'registry.io/repo3a': ['defaultTag'] },
    },
    konflux: {
      comp2: {
        'registry.io/repo2': ['defaultTag', 'tag1-1980-01', 'tag2-1980-01', 'tag4-1980-01', 'v1-1-release', 'v1.0.0-1'],
      },
    },
    note: 'comp2 tag1: the catalog’s date mock answers 1980-01 to every "+%Y-%m"; GNU date on the Created time 2024-07-29T02:17:29 prints 2024-07',
  },
  {
    name: 'component-incrementer: one number across all repositories of a component',
    source: 'test-apply-mapping-component-incrementer.yaml @0921b441',
    mapping: `
components:
  - name: comp1-multi
    repositories:
      - {url: registry.io/repo-ci-a, tags: ["v1.0.0-{{ component-incrementer }}"]}
      - {url: registry.io/repo-ci-b, tags: ["v1.0.0-{{ component-incrementer }}"]}
  - name: comp2-single
    repositories:
      - {url: registry.io/repo-ci-c, tags: ["v2.0.0-{{ component-incrementer }}"]}
`,
    components: [
      { name: 'comp1-multi', image: 'registry.io/image', revision: 'testrevision' },
      { name: 'comp2-single', image: 'registry.io/image', revision: 'testrevision' },
    ],
    expected: {
      'comp1-multi': { 'registry.io/repo-ci-a': ['v1.0.0-6'], 'registry.io/repo-ci-b': ['v1.0.0-6'] },
      'comp2-single': { 'registry.io/repo-ci-c': ['v2.0.0-4'] },
    },
  },
  {
    name: 'repository and repositories both: the repositories list is pushed',
    source: 'test-apply-mapping-both.yaml @3f80bcea',
    mapping: `
defaults: {tags: [latest]}
components:
  - name: comp1
    repository: registry.io/legacy
    repositories: [{url: registry.io/repo1a}, {url: registry.io/repo1b}, {url: registry.io/repo1c}]
`,
    components: [{ name: 'comp1', image: 'imageurl1', revision: 'myrev' }],
    expected: {
      comp1: { 'registry.io/repo1a': ['latest'], 'registry.io/repo1b': ['latest'], 'registry.io/repo1c': ['latest'] },
    },
    note: 'the catalog’s case has no tags at all (it checks only the URLs; push-snapshot would then refuse the component); defaults.tags added here',
  },
  {
    name: 'defaults + componentTags + repository tags, merged and de-duplicated; component tags ignored for a list',
    source: 'apply-mapping.yaml @a1073204 (componentTags, repositories)',
    mapping: `
defaults: {tags: ["{{ git_short_sha }}", released]}
components:
  - name: web
    repository: registry.io/web
    componentTags: [released, stable]
    tags: ["{{ git_sha }}", stable]
  - name: api
    componentTags: [stable]
    tags: [never-used]
    repositories:
      - {url: registry.io/api, tags: ["v{{ oci_version }}"]}
      - {url: registry.io/api-mirror}
`,
    components: [
      { name: 'web', image: 'quay.io/myorg/web-app', revision: 'abcdef0123456789abcdef0123456789abcdef01' },
      { name: 'api', image: 'registry.io/image', revision: 'abcdef0123456789abcdef0123456789abcdef01' },
    ],
    expected: {
      web: { 'registry.io/web': ['released', 'stable', 'abcdef0123456789abcdef0123456789abcdef01', 'abcdef0'] },
      api: {
        'registry.io/api': ['released', 'stable', 'v2.0.1_alpha', 'abcdef0'],
        'registry.io/api-mirror': ['released', 'stable', 'abcdef0'],
      },
    },
  },
  {
    name: 'oci_version of a Helm chart from its manifest annotations; + becomes _',
    source: 'test-apply-mapping-helm-chart.yaml @9dd664bc',
    mapping: `
components:
  - name: chart
    repositories: [{url: registry.io/charts, tags: ["{{ oci_version }}", "{{ timestamp }}"]}]
`,
    components: [{ name: 'chart', image: 'quay.io/myorg/helm-chart' }],
    expected: { chart: { 'registry.io/charts': ['2.0.1_alpha', '1722219449'] } },
  },
  {
    name: 'oci_version without the label is "unknown"',
    source: 'apply-mapping.yaml @a1073204',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ oci_version }}"]}]',
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { c: { 'registry.io/x': ['unknown'] } },
  },
  {
    name: 'missing label fails',
    source: 'test-apply-mapping-fail-missing-label.yaml',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ labels.Missing }}"]}]',
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { error: /the image has no label "Missing"/ },
    konflux: { error: 'Substitution variable unknown or empty: labels.Missing' },
  },
  {
    name: 'label value that is not a valid tag fails',
    source: 'test-apply-mapping-fail-invalid-label-value.yaml',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ labels.Badlabel }}"]}]',
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { error: /"label with space" is not a valid tag/ },
    konflux: { error: 'Invalid tag format: label with space' },
  },
  {
    name: 'unknown variable fails',
    source: 'test-apply-mapping-fail-invalid-tag-variable.yaml',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ nonsense }}"]}]',
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { error: /\{\{ nonsense \}\} is not a known placeholder/ },
    konflux: { error: 'Substitution variable unknown or empty: nonsense' },
  },
  {
    name: '{{ timestamp }} without build-date or created fails',
    source: 'test-apply-mapping-fail-tag-expansion.yaml',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ timestamp }}"]}]',
    components: [{ name: 'c', image: 'registry.io/badimage' }],
    expected: { error: /\{\{ timestamp \}\} needs the image build date/ },
    konflux: { error: 'Substitution variable unknown or empty: timestamp' },
  },
  {
    name: '{{ git_sha }} without source',
    source: 'apply-mapping.yaml @a1073204',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: ["{{ git_sha }}"]}]',
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { error: /needs the component source.git.revision/ },
    konflux: { c: { 'registry.io/x': ['null'] } },
    note: 'documented refusal: jq -r prints "null" for a missing revision and Konflux pushes the tag "null"',
  },
  {
    name: 'a repo:tag@sha256: reference (documented divergence)',
    source: 'apply-mapping.yaml @a1073204 (containerImage check)',
    mapping: 'components: [{name: c, repository: registry.io/x, tags: [released]}]',
    components: [{ name: 'c', image: 'registry.io/labels:v1' }],
    expected: { c: { 'registry.io/x': ['released'] } },
    konflux: { error: 'Component c contains an invalid containerImage value. sha reference is required' },
    note: 'kept: the digest pins the image exactly and is what is copied; the tag beside it changes nothing',
  },
  {
    name: 'a registry with a port (documented divergence)',
    source: 'apply-mapping.yaml @a1073204 (containerImage check)',
    mapping: 'components: [{name: c, repository: "localhost:5000/x", tags: [released]}]',
    components: [{ name: 'c', image: 'localhost:5000/app' }],
    expected: { c: { 'localhost:5000/x': ['released'] } },
    konflux: { error: 'Component c contains an invalid containerImage value. sha reference is required' },
    note: 'kept: the check refuses any ":" before "@sha256:", so a registry port reads as a tag',
  },
  {
    name: 'a tag longer than 128 characters',
    source: 'apply-mapping.yaml @a1073204',
    mapping: `components: [{name: c, repository: registry.io/x, tags: ["${'a'.repeat(129)}"]}]`,
    components: [{ name: 'c', image: 'registry.io/labels' }],
    expected: { error: /is 129 characters; tags are at most 128/ },
    konflux: { error: 'the registry refuses the push, after other tags moved' },
    note: 'documented refusal: refused before anything moves',
  },
]

function snapshotOf(c: Case): string {
  return JSON.stringify({
    apiVersion: 'appstudio.redhat.com/v1alpha1',
    kind: 'Snapshot',
    metadata: { name: 's' },
    spec: {
      application: 'myapp',
      components: c.components.map((k) => ({
        name: k.name,
        containerImage: `${k.image}@${DIGEST}`,
        ...(k.revision ? { source: { git: { url: 'myurl', revision: k.revision } } } : {}),
      })),
    },
  })
}

describe('release-service-catalog apply-mapping cases', () => {
  test.each(CASES)('$name ($source)', (c) => {
    const snapshot = parseSnapshot(snapshotOf(c), 'snapshot')
    const mapping = parseMapping(c.mapping, 'mapping')
    const imageFacts = Object.fromEntries(
      snapshot.components.map((k) => [
        k.containerImage,
        IMAGES[`${k.image.registry}/${k.image.path}`] ?? { buildDate: undefined, labels: {} },
      ]),
    )
    const run = () =>
      planRelease({
        snapshot,
        mapping,
        releaseTime: RELEASE_TIME,
        imageFacts: imageFacts as never,
        existingTags: EXISTING_TAGS,
      })
    if ('error' in c.expected) {
      expect(run).toThrow(c.expected.error)
      return
    }
    const got: Record<string, Record<string, string[]>> = {}
    for (const r of run().retags) {
      const repo = `${r.target.registry}/${r.target.path}`
      const perRepo = got[r.component] ?? {}
      got[r.component] = perRepo
      perRepo[repo] = [...(perRepo[repo] ?? []), r.tag]
    }
    expect(got).toEqual(c.expected)
  })
})
