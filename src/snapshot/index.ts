export {
  AUTO_RELEASE_LABEL,
  EVENT_TYPE_LABEL,
  type GatePlan,
  type GateResult,
  isGroupSnapshot,
  isMergeQueueSnapshot,
  isPushSnapshot,
  LEGACY_TEST_SUCCEEDED,
  PULL_REQUEST_LABEL,
  type ReleaseGateOptions,
  releaseGate,
  SHOULD_RELEASE_ANNOTATION,
  SNAPSHOT_TYPE_LABEL,
  SOURCE_BRANCH_ANNOTATION,
  TEST_SUCCEEDED,
} from './gate.js'
export {
  parseSnapshot,
  type Snapshot,
  type SnapshotComponent,
  type SnapshotObject,
  snapshotFromObject,
} from './snapshot.js'
