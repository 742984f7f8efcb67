export {
  createGitHubClient,
  DEFAULT_GITHUB_API_URL,
  GitHubClient,
  type GitHubClientOptions,
  type IssueInfo,
  type PullRequestInfo,
  type RepositoryInfo,
  tokenFromEnv,
} from './client.js'
export { type FileStatus, type ProposeFilesOptions, type ProposeFilesResult, proposeFiles } from './propose.js'
export { ensureRepositoryRemote, parseRepositoryName, type RepositoryRemote } from './repository-remote.js'
