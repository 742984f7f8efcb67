export { readFiles } from './files.js'
export { checkImageRepository, checkName, parseComponentFlag, withoutCredentials } from './inputs.js'
export { contentHash, LEDGER_FILE, type Ledger, parseLedger, renderLedger } from './ledger.js'
export { componentBase, type DesiredFile, type PlanInput, planFiles, REPO_URL_PLACEHOLDER } from './plan.js'
export { type FileAction, type FileChange, type ReconcileOptions, reconcile } from './reconcile.js'
export { describeResult, resultExitCode } from './report.js'
export {
  addComponent,
  addEnvironment,
  type ComponentAddRequest,
  type ComponentRemoveRequest,
  DEFAULT_ENVIRONMENTS,
  type DigestResolver,
  type EnvAddRequest,
  type EnvRemoveRequest,
  enableIntegrationTest,
  type InitRequest,
  type IntegrationTestRequest,
  initRepo,
  type RepoChangeOptions,
  removeComponent,
  removeEnvironment,
  type ScaffoldResult,
} from './service.js'
