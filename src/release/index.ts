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
export { readImageFacts, readPlanFacts } from './facts.js'
export { type Mapping, parseMapping } from './mapping.js'
export {
  checkTagFlags,
  componentsNeedingImageConfig,
  DEFAULT_TAG,
  type ImageFacts,
  imagesNeedingConfig,
  type PlanInput,
  type PlannedRetag,
  planRelease,
  type ReleasePlan,
  repositoriesNeedingTagList,
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
export { type CompactReport, compactReport, TEKTON_RESULT_BUDGET } from './report.js'
export { gnuDateFormat, parseDateString } from './strftime.js'
export { renderTag, TAG_PATTERN, usesImageConfig, usesTagList } from './templates.js'
