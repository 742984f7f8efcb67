export {
  assertKnownComponents,
  componentsToPlan,
  findEnvironment,
  type GitOpsRepo,
  type InitTarget,
  loadRepoSpec,
  NOT_A_GITOPS_REPO,
  type OpenOptions,
  openGitOpsRepo,
  openInitTarget,
  repoReader,
} from './open.js'
