export {
  defaultRollbackBranch,
  planRollback,
  type RestorePoint,
  type RollbackChange,
  type RollbackInput,
  type RollbackPlan,
  rollbackMessage,
} from './plan.js'
export { type RollbackOptions, type RollbackResult, rollback } from './rollback.js'
