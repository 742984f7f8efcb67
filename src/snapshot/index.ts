export {
  AUTO_RELEASE_LABEL,
  EVENT_TYPE_LABEL,
  type GateResult,
  parseSnapshot,
  releaseGate,
  SNAPSHOT_TYPE_LABEL,
  type Snapshot,
  type SnapshotComponent,
  type SnapshotObject,
  TEST_SUCCEEDED,
} from './snapshot.js'
