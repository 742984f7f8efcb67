export { type GitHubAppCredentials, githubAppTokens } from './github-app.js'
export {
  DEPENDABOT_NOTE,
  githubNotifier,
  type NotifyGitHub,
  type NotifyOptions,
  type NotifyOutcome,
  type NotifyStatus,
  notifyUpdaters,
  sendNotification,
} from './notify.js'
export {
  DISPATCH_EVENT_TYPE,
  dispatchPayload,
  type MovedImage,
  NOTIFY_VIA,
  type NotifyTarget,
  type NotifyVia,
  type PlannedNotification,
  parseNotifyConfig,
  parseNotifyTarget,
  planNotifications,
  tickManualJob,
} from './plan.js'
export {
  createNotifyGitHub,
  movedImagesOf,
  notifyAfterRelease,
  prepareReleaseNotifier,
  type ReleaseNotifyOptions,
} from './release.js'
export {
  RENOVATE_WORKFLOW,
  type RunnerRegistry,
  renovateRunnerReadme,
  renovateRunnerWorkflow,
} from './renovate-workflow.js'
