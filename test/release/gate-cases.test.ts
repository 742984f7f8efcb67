/**
 * integration-service's release-gate cases (gitops/snapshot_test.go and the Snapshot controller's auto-release
 * logic at integration-service 2ae28781), ported as facts: the Snapshot shape, whether integration-service releases
 * it, and whether konflux-gitops does. One gate (src/snapshot releaseGate) serves release, the releaser and init.
 */
import { describe, expect, test } from 'vitest'
import { type GatePlan, parseSnapshot, releaseGate } from '../../src/snapshot/index.js'
import { upstreamErrors } from '../helpers/upstream.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const PASSED = { type: 'AppStudioTestSucceeded', status: 'True', reason: 'Passed' }
const FAILED = { type: 'AppStudioTestSucceeded', status: 'False', reason: 'Failed' }
const FINISHED = { type: 'AppStudioIntegrationStatus', status: 'True', reason: 'Finished' }
const INVALID = { type: 'AppStudioIntegrationStatus', status: 'False', reason: 'Invalid' }
const PUSH = { 'pac.test.appstudio.openshift.io/event-type': 'push', 'test.appstudio.openshift.io/type': 'component' }
const PR = {
  'pac.test.appstudio.openshift.io/event-type': 'pull_request',
  'pac.test.appstudio.openshift.io/pull-request': '1',
  'test.appstudio.openshift.io/type': 'component',
}

interface Shape {
  labels?: Record<string, string>
  annotations?: Record<string, string>
  conditions?: { type: string; status: string; reason?: string }[]
  spec?: Record<string, unknown>
  image?: string
}

interface Case {
  name: string
  shape: Shape
  releasePlan?: GatePlan
  /** What integration-service does: it creates Releases (true) or not. */
  konflux: boolean
  /** What konflux-gitops does (equal to konflux unless a documented refusal). */
  ours: boolean
  /** How many reasons integration-service's CanSnapshotBePromoted gives, where its tests count them. */
  reasons?: number
  match?: RegExp
}

const CASES: Case[] = [
  {
    name: 'not yet tested (no test condition)',
    shape: { labels: PUSH },
    konflux: false,
    ours: false,
    reasons: 1,
    match: /have not finished/,
  },
  {
    name: 'test condition Unknown',
    shape: { labels: PUSH, conditions: [{ type: 'AppStudioTestSucceeded', status: 'Unknown' }] },
    konflux: false,
    ours: false,
    reasons: 1,
  },
  {
    name: 'passed, finished, push',
    shape: { labels: PUSH, conditions: [FINISHED, PASSED] },
    konflux: true,
    ours: true,
  },
  { name: 'failed', shape: { labels: PUSH, conditions: [FINISHED, FAILED] }, konflux: false, ours: false, reasons: 1 },
  {
    name: 'failed, pull request',
    shape: { labels: PR, conditions: [FINISHED, FAILED] },
    konflux: false,
    ours: false,
    reasons: 2,
  },
  {
    name: 'failed, pull request, Invalid',
    shape: { labels: PR, conditions: [INVALID, FAILED] },
    konflux: false,
    ours: false,
    reasons: 3,
  },
  {
    name: 'failed, pull request, Invalid, auto-release label false',
    shape: { labels: { ...PR, 'release.appstudio.openshift.io/auto-release': 'false' }, conditions: [INVALID, FAILED] },
    konflux: false,
    ours: false,
    reasons: 4,
  },
  {
    name: 'the Snapshot’s auto-release annotation is not read (label true, annotation false)',
    shape: {
      labels: { ...PR, 'release.appstudio.openshift.io/auto-release': 'true' },
      annotations: { 'release.appstudio.openshift.io/auto-release': 'false' },
      conditions: [INVALID, FAILED],
    },
    konflux: false,
    ours: false,
    reasons: 3,
  },
  {
    name: 'passed, auto-release label true',
    shape: {
      labels: { ...PUSH, 'release.appstudio.openshift.io/auto-release': 'true' },
      conditions: [FINISHED, PASSED],
    },
    konflux: true,
    ours: true,
  },
  {
    name: 'passed, auto-release label false',
    shape: {
      labels: { ...PUSH, 'release.appstudio.openshift.io/auto-release': 'false' },
      conditions: [FINISHED, PASSED],
    },
    konflux: false,
    ours: false,
    reasons: 1,
  },
  {
    name: 'passed but Invalid',
    shape: { labels: PUSH, conditions: [INVALID, PASSED] },
    konflux: false,
    ours: false,
    reasons: 1,
    match: /Invalid/,
  },
  {
    name: 'legacy HACBSStudioTestSucceeded only, True',
    shape: { labels: PUSH, conditions: [{ type: 'HACBSStudioTestSucceeded', status: 'True', reason: 'Passed' }] },
    konflux: true,
    ours: true,
  },
  {
    name: 'legacy HACBSStudioTestSucceeded only, False',
    shape: { labels: PUSH, conditions: [{ type: 'HACBSStudioTestSucceeded', status: 'False' }] },
    konflux: false,
    ours: false,
    reasons: 1,
  },
  {
    name: 'legacy HACBSIntegrationStatus Invalid',
    shape: {
      labels: PUSH,
      conditions: [PASSED, { type: 'HACBSIntegrationStatus', status: 'False', reason: 'Invalid' }],
    },
    konflux: false,
    ours: false,
    reasons: 1,
  },
  {
    name: 'override Snapshot: no Pipelines-as-Code labels',
    shape: { labels: { 'test.appstudio.openshift.io/type': 'override' }, conditions: [FINISHED, PASSED] },
    konflux: true,
    ours: true,
  },
  {
    name: 'manual Snapshot: no labels or annotations at all',
    shape: { conditions: [PASSED] },
    konflux: true,
    ours: true,
  },
  {
    name: 'group Snapshot',
    shape: { labels: { 'test.appstudio.openshift.io/type': 'group' }, conditions: [PASSED] },
    konflux: false,
    ours: false,
    reasons: 2,
    match: /group Snapshot/,
  },
  {
    name: 'GitLab push (event type Push)',
    shape: { labels: { 'pac.test.appstudio.openshift.io/event-type': 'Push' }, conditions: [PASSED] },
    konflux: true,
    ours: true,
  },
  {
    name: 'push with a pull-request label (disregarded)',
    shape: { labels: { ...PUSH, 'pac.test.appstudio.openshift.io/pull-request': '12' }, conditions: [PASSED] },
    konflux: true,
    ours: true,
  },
  {
    name: 'pull_request event without the pull-request label (counted as push)',
    shape: { labels: { 'pac.test.appstudio.openshift.io/event-type': 'pull_request' }, conditions: [PASSED] },
    konflux: true,
    ours: true,
  },
  {
    name: 'merge queue: push on gh-readonly-queue/',
    shape: {
      labels: PUSH,
      annotations: {
        'pac.test.appstudio.openshift.io/source-branch':
          'gh-readonly-queue/main/pr-2987-bda9b312bf224a6b5fb1e7ed6ae76dd9e6b1b75b',
      },
      conditions: [PASSED],
    },
    konflux: false,
    ours: false,
    reasons: 1,
    match: /merge queue/,
  },
  {
    name: 'merge queue: refs/heads/gh-readonly-queue/',
    shape: {
      labels: PUSH,
      annotations: {
        'pac.test.appstudio.openshift.io/source-branch':
          'refs/heads/gh-readonly-queue/main/pr-7-54e7d2bfec0e0570915f5770c890407c714e6139',
      },
      conditions: [PASSED],
    },
    konflux: false,
    ours: false,
    reasons: 1,
  },
  {
    name: 'an ordinary source branch',
    shape: {
      labels: PUSH,
      annotations: { 'pac.test.appstudio.openshift.io/source-branch': 'somebranch' },
      conditions: [PASSED],
    },
    konflux: true,
    ours: true,
  },
  {
    name: 'build said SHOULD_RELEASE=false (label-based ReleasePlan)',
    shape: {
      labels: PUSH,
      annotations: { 'test.appstudio.openshift.io/result-should-release': 'false' },
      conditions: [PASSED],
    },
    konflux: false,
    ours: false,
    match: /result-should-release is "false"/,
  },
  {
    name: 'SHOULD_RELEASE=false, ReleasePlan annotation "true" bypasses it',
    shape: {
      labels: PUSH,
      annotations: { 'test.appstudio.openshift.io/result-should-release': 'false' },
      conditions: [PASSED],
    },
    releasePlan: { name: 'rp', annotations: { 'release.appstudio.openshift.io/auto-release': 'true' } },
    konflux: true,
    ours: true,
  },
  {
    name: 'SHOULD_RELEASE=false, ReleasePlan annotation shouldRelease()',
    shape: {
      labels: PUSH,
      annotations: { 'test.appstudio.openshift.io/result-should-release': 'false' },
      conditions: [PASSED],
    },
    releasePlan: { name: 'rp', annotations: { 'release.appstudio.openshift.io/auto-release': 'shouldRelease()' } },
    konflux: false,
    ours: false,
  },
  {
    name: 'ReleasePlan label auto-release false',
    shape: { labels: PUSH, conditions: [PASSED] },
    releasePlan: { name: 'rp', labels: { 'release.appstudio.openshift.io/auto-release': 'false' } },
    konflux: false,
    ours: false,
  },
  {
    name: 'ReleasePlan label auto-release true',
    shape: { labels: PUSH, conditions: [PASSED] },
    releasePlan: { name: 'rp', labels: { 'release.appstudio.openshift.io/auto-release': 'true' } },
    konflux: true,
    ours: true,
  },
  {
    name: 'ReleasePlan annotation "false"',
    shape: { labels: PUSH, conditions: [PASSED] },
    releasePlan: { name: 'rp', annotations: { 'release.appstudio.openshift.io/auto-release': 'false' } },
    konflux: false,
    ours: false,
  },
  {
    name: 'ReleasePlan annotation with another CEL expression (documented refusal)',
    shape: { labels: PUSH, conditions: [PASSED] },
    releasePlan: {
      name: 'rp',
      annotations: { 'release.appstudio.openshift.io/auto-release': 'updatedComponentIs("api")' },
    },
    konflux: true,
    ours: false,
    match: /CEL expression .* which konflux-gitops does not evaluate/,
  },
  {
    name: 'ComponentGroup Snapshot (spec.componentGroup, no application)',
    shape: { labels: PUSH, conditions: [PASSED], spec: { componentGroup: 'shop-group' } },
    konflux: true,
    ours: true,
  },
  {
    name: 'an image not pinned by digest (documented refusal; apply-mapping fails on it later)',
    shape: { labels: PUSH, conditions: [PASSED], image: 'quay.io/acme/api:latest' },
    konflux: false,
    ours: false,
    match: /not pinned by @sha256: digest/,
  },
]

function objectOf(shape: Shape) {
  return {
    apiVersion: 'appstudio.redhat.com/v1alpha1',
    kind: 'Snapshot',
    metadata: { name: 'shop-1', labels: shape.labels ?? {}, annotations: shape.annotations ?? {} },
    spec: {
      ...(shape.spec ?? { application: 'shop' }),
      components: [{ name: 'api', containerImage: shape.image ?? `quay.io/acme/api@${DIGEST}` }],
    },
    // As Kubernetes stores conditions: every field metav1.Condition requires.
    status: {
      conditions: (shape.conditions ?? []).map((c) => ({
        reason: 'Unknown',
        message: '',
        lastTransitionTime: '2026-11-24T09:18:00Z',
        ...c,
      })),
    },
  }
}

const snapshotOf = (shape: Shape) => parseSnapshot(JSON.stringify(objectOf(shape)), 'snapshot')

describe('integration-service release-gate cases', () => {
  test.each(CASES)('$name', (c) => {
    // The shape is a Snapshot the API server accepts.
    expect(upstreamErrors(objectOf(c.shape))).toEqual([])
    const snapshot = snapshotOf(c.shape)
    const result = releaseGate(snapshot, { releasePlan: c.releasePlan })
    expect(result.releasable).toBe(c.ours)
    if (c.reasons !== undefined) expect(result.reasons).toHaveLength(c.reasons)
    if (c.match) expect(result.reasons.join('\n')).toMatch(c.match)
    if (c.konflux !== c.ours) expect(c.name).toMatch(/documented refusal/)
  })

  test('a ComponentGroup Snapshot names its group; one with neither application nor group is refused', () => {
    const snapshot = snapshotOf({ spec: { componentGroup: 'shop-group' } })
    expect(snapshot.componentGroup).toBe('shop-group')
    expect(snapshot.application).toBe('shop-group')
    expect(() => snapshotOf({ spec: {} })).toThrow(/names neither application nor componentGroup/)
  })
})
