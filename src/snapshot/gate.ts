/**
 * The release gate, decided as integration-service decides it before it creates a Release (its gitops package's
 * CanSnapshotBePromoted, the push / merge-queue checks, the build's SHOULD_RELEASE annotation and the ReleasePlan's
 * auto-release label or annotation), plus one rule of this tool: every image is pinned by digest. One function for
 * `release`, the releaser (webhook and Kubernetes watch) and `init --from-snapshot`; test/release/gate-cases.test.ts
 * holds integration-service's cases.
 */
import type { Snapshot } from './snapshot.js'

export const PAC_PREFIX = 'pac.test.appstudio.openshift.io'
export const EVENT_TYPE_LABEL = `${PAC_PREFIX}/event-type`
export const PULL_REQUEST_LABEL = `${PAC_PREFIX}/pull-request`
export const SOURCE_BRANCH_ANNOTATION = `${PAC_PREFIX}/source-branch`
export const SNAPSHOT_TYPE_LABEL = 'test.appstudio.openshift.io/type'
export const AUTO_RELEASE_LABEL = 'release.appstudio.openshift.io/auto-release'
export const SHOULD_RELEASE_ANNOTATION = 'test.appstudio.openshift.io/result-should-release'
export const TEST_SUCCEEDED = 'AppStudioTestSucceeded'
export const LEGACY_TEST_SUCCEEDED = 'HACBSStudioTestSucceeded'
export const INTEGRATION_STATUS = 'AppStudioIntegrationStatus'
export const LEGACY_INTEGRATION_STATUS = 'HACBSIntegrationStatus'
export const MERGE_QUEUE_BRANCH_PREFIX = 'gh-readonly-queue/'

export interface GateResult {
  readonly releasable: boolean
  readonly reasons: readonly string[]
}

/** The ReleasePlan an automatic release would go through: its auto-release label or annotation has a say. */
export interface GatePlan {
  readonly name: string
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly annotations?: Readonly<Record<string, string>> | undefined
}

export interface ReleaseGateOptions {
  /** Decide for this ReleasePlan too (the releaser watching Kubernetes knows it). */
  readonly releasePlan?: GatePlan | undefined
}

type Condition = Snapshot['conditions'][number]

const find = (snapshot: Snapshot, type: string, legacy: string): Condition | undefined =>
  snapshot.conditions.find((c) => c.type === type) ?? snapshot.conditions.find((c) => c.type === legacy)

/** Tests finished: the test condition (or, without it, the legacy one) is there and not Unknown. */
function testsFinished(snapshot: Snapshot): boolean {
  const condition = find(snapshot, TEST_SUCCEEDED, LEGACY_TEST_SUCCEEDED)
  return condition !== undefined && condition.status !== 'Unknown'
}

function testsSucceeded(snapshot: Snapshot): boolean {
  return find(snapshot, TEST_SUCCEEDED, LEGACY_TEST_SUCCEEDED)?.status === 'True'
}

/** Not marked Invalid by integration-service (its integration status condition's reason). */
function isValid(snapshot: Snapshot): boolean {
  return find(snapshot, INTEGRATION_STATUS, LEGACY_INTEGRATION_STATUS)?.reason !== 'Invalid'
}

export function isGroupSnapshot(snapshot: Snapshot): boolean {
  return snapshot.labels[SNAPSHOT_TYPE_LABEL] === 'group'
}

export function isMergeQueueSnapshot(snapshot: Snapshot): boolean {
  const branch = snapshot.annotations[SOURCE_BRANCH_ANNOTATION]
  return branch?.replace(/^refs\/heads\//, '').startsWith(MERGE_QUEUE_BRANCH_PREFIX) ?? false
}

/**
 * Built by a push (integration-service's reading): not a merge-queue or group Snapshot, and the event label says
 * push — or there is no event label, or no pull-request label (an override Snapshot has neither).
 */
export function isPushSnapshot(snapshot: Snapshot): boolean {
  if (isMergeQueueSnapshot(snapshot) || isGroupSnapshot(snapshot)) return false
  const event = snapshot.labels[EVENT_TYPE_LABEL]
  return (
    event === 'push' || event === 'Push' || event === undefined || snapshot.labels[PULL_REQUEST_LABEL] === undefined
  )
}

/**
 * The ReleasePlan's say. An auto-release annotation is a CEL expression in Konflux: `true`, `false` and
 * `shouldRelease()` are evaluated here; any other expression is refused rather than guessed. Without the annotation,
 * the label `false` stops it, and otherwise the build's SHOULD_RELEASE result does.
 */
function planReasons(plan: GatePlan, shouldRelease: boolean): string[] {
  const expression = plan.annotations?.[AUTO_RELEASE_LABEL]
  if (expression !== undefined && expression !== '') {
    const trimmed = expression.trim()
    if (trimmed === 'true') return []
    if (trimmed === 'false') return [`ReleasePlan ${plan.name}: annotation ${AUTO_RELEASE_LABEL} is "false"`]
    if (/^shouldRelease\(\s*\)$/.test(trimmed)) {
      return shouldRelease ? [] : [`ReleasePlan ${plan.name} releases only when SHOULD_RELEASE is not "false"`]
    }
    return [
      `ReleasePlan ${plan.name}: annotation ${AUTO_RELEASE_LABEL} is the CEL expression ${JSON.stringify(trimmed)}, which konflux-gitops does not evaluate (it reads true, false and shouldRelease())`,
    ]
  }
  if (plan.labels?.[AUTO_RELEASE_LABEL] === 'false') {
    return [`ReleasePlan ${plan.name}: label ${AUTO_RELEASE_LABEL} is "false"`]
  }
  return shouldRelease ? [] : [shouldReleaseReason]
}

const shouldReleaseReason = `annotation ${SHOULD_RELEASE_ANNOTATION} is "false": the build pipeline asked not to release it`

/** Whether a Snapshot may be released, and every reason it may not. */
export function releaseGate(snapshot: Snapshot, options: ReleaseGateOptions = {}): GateResult {
  const reasons: string[] = []
  if (!testsFinished(snapshot)) {
    reasons.push(
      `condition ${TEST_SUCCEEDED} is ${find(snapshot, TEST_SUCCEEDED, LEGACY_TEST_SUCCEEDED) ? 'Unknown' : 'missing'}: its integration tests have not finished`,
    )
  } else {
    if (!testsSucceeded(snapshot)) {
      const tested = find(snapshot, TEST_SUCCEEDED, LEGACY_TEST_SUCCEEDED)!
      reasons.push(
        `condition ${tested.type} is ${tested.status}${tested.reason ? ` (${tested.reason})` : ''}: its integration tests did not pass`,
      )
    }
    if (!isValid(snapshot)) reasons.push('integration-service marked it Invalid (integration status reason Invalid)')
    if (!isPushSnapshot(snapshot)) {
      reasons.push(
        isMergeQueueSnapshot(snapshot)
          ? `it was built for a merge queue (annotation ${SOURCE_BRANCH_ANNOTATION}: ${snapshot.annotations[SOURCE_BRANCH_ANNOTATION]})`
          : isGroupSnapshot(snapshot)
            ? 'it groups pull request builds, not a push build'
            : `it was built for a pull request (label ${EVENT_TYPE_LABEL}: ${snapshot.labels[EVENT_TYPE_LABEL]})`,
      )
    }
    if (snapshot.labels[AUTO_RELEASE_LABEL] === 'false') reasons.push(`label ${AUTO_RELEASE_LABEL} is "false"`)
    if (isGroupSnapshot(snapshot)) reasons.push(`it is a group Snapshot (label ${SNAPSHOT_TYPE_LABEL}: group)`)
  }
  const shouldRelease = snapshot.annotations[SHOULD_RELEASE_ANNOTATION] !== 'false'
  if (options.releasePlan) reasons.push(...planReasons(options.releasePlan, shouldRelease))
  else if (!shouldRelease) reasons.push(shouldReleaseReason)
  for (const component of snapshot.components) {
    if (component.image.digest === undefined || !component.image.digest.startsWith('sha256:')) {
      reasons.push(
        `component ${component.name}: containerImage ${component.containerImage} is not pinned by @sha256: digest`,
      )
    }
  }
  return { releasable: reasons.length === 0, reasons: [...new Set(reasons)] }
}
