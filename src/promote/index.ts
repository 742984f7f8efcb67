export {
  commitMessage,
  defaultBranchName,
  type PromotionChange,
  type PromotionInput,
  type PromotionPlan,
  planPromotion,
} from './plan.js'
export { type PromoteDeps, type PromoteOptions, type PromoteResult, promote } from './promote.js'
