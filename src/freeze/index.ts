export { describeFreeze } from './describe.js'
export {
  type FreezeAuthorship,
  type FreezeOptions,
  type FreezeResult,
  freezeEnvironment,
  freezeMessage,
  gitIdentity,
  newFreeze,
} from './freeze.js'
export {
  type Freeze,
  type FreezePlan,
  type FreezePlanInput,
  planFreeze,
  RENOVATE_FILES,
  withFreezeRules,
} from './plan.js'
export {
  freezeRuleDescription,
  frozenEnvironmentOf,
  frozenFiles,
  type RenovateFreezeRule,
  renovateFreezeRule,
  renovateFreezeRules,
} from './renovate-rule.js'
