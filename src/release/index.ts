export {
  type EngineOptions,
  type ExecuteOptions,
  executeRetags,
  RetagEngine,
  type RetagError,
  type RetagGate,
  type RetagOutcome,
  type RetagStatus,
} from './engine.js'
export { type Mapping, parseMapping } from './mapping.js'
export {
  checkTagFlags,
  componentsNeedingImageConfig,
  DEFAULT_TAG,
  type ImageFacts,
  type PlanInput,
  type PlannedRetag,
  planRelease,
  type ReleasePlan,
  type SkippedComponent,
} from './plan.js'
export {
  type ReleaseDeps,
  type ReleaseInput,
  type ReleaseReport,
  type ReleaseResultItem,
  releaseSnapshot,
} from './release.js'
export { type ReleasePlanInput, type ReleasePlanResult, renderReleasePlan } from './releaseplan.js'
export { renderTag, strftime, TAG_PATTERN } from './templates.js'
