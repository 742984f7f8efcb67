import type { GitHubClient } from '../github/index.js'
import type { ReleaseReport } from '../release/index.js'
import type { GitHubAppCredentials } from './github-app.js'
import { githubNotifier, type NotifyGitHub, type NotifyOutcome, notifyUpdaters } from './notify.js'
import { type MovedImage, type NotifyVia, parseNotifyTarget } from './plan.js'

/** Tags a release actually moved (never `unchanged`, `would-move` or `failed` ones). */
export function movedImagesOf(report: ReleaseReport): MovedImage[] {
  return report.results
    .filter((r) => r.status === 'moved')
    .map((r) => ({
      repository: r.target.slice(0, r.target.length - r.tag.length - 1),
      tag: r.tag,
      digest: r.digest,
      snapshot: report.snapshot,
      component: r.component,
    }))
}

export interface ReleaseNotifyOptions {
  /** `github:OWNER/REPO` values of --notify. */
  targets: readonly string[]
  via: NotifyVia
  apiUrl?: string | undefined
  env?: Record<string, string | undefined>
  /** Authenticate as a GitHub App installation instead of GITHUB_TOKEN/GH_TOKEN. */
  githubApp?: GitHubAppCredentials | undefined
  onWarning?: (message: string) => void
}

/**
 * Check --notify and the GitHub token before anything is released (a usage error must not come after the tags
 * moved), and return the step that runs after the release.
 */
export async function prepareReleaseNotifier(
  options: ReleaseNotifyOptions,
): Promise<(report: ReleaseReport) => Promise<NotifyOutcome[]>> {
  const targets = options.targets.map((t) => parseNotifyTarget(t))
  const github = await createNotifyGitHub(options)
  return async (report) => {
    if (report.dryRun) return []
    return notifyUpdaters(movedImagesOf(report), targets, github, {
      via: options.via,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    })
  }
}

/**
 * The GitHub side of notify, authenticated with GITHUB_TOKEN/GH_TOKEN or as a GitHub App (one installation token
 * per owner, fetched on first use). Throws a usage error now for a missing token or an unreadable App key.
 */
export async function createNotifyGitHub(
  options: Pick<ReleaseNotifyOptions, 'apiUrl' | 'env' | 'githubApp' | 'onWarning'> & {
    retry?: { enabled?: boolean; retries?: number }
  },
): Promise<NotifyGitHub> {
  const { createGitHubClient } = await import('../github/index.js')
  const common = {
    apiUrl: options.apiUrl,
    ...(options.env ? { env: options.env } : {}),
    ...(options.onWarning ? { onNotice: options.onWarning } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  }
  if (!options.githubApp) return githubNotifier(await createGitHubClient(common))
  const { githubAppTokens } = await import('./github-app.js')
  const app = githubAppTokens(options.githubApp, options.apiUrl ?? options.env?.GITHUB_API_URL)
  await app.ready()
  const clients = new Map<string, Promise<GitHubClient>>()
  return githubNotifier((owner, repo) => {
    let client = clients.get(owner.toLowerCase())
    if (!client) {
      client = app.tokenFor(owner, repo).then((token) => createGitHubClient({ ...common, token }))
      clients.set(owner.toLowerCase(), client)
      client.catch(() => clients.delete(owner.toLowerCase()))
    }
    return client
  })
}

/** One call for callers that do not need the early check. */
export async function notifyAfterRelease(
  report: ReleaseReport,
  options: ReleaseNotifyOptions,
): Promise<NotifyOutcome[]> {
  return (await prepareReleaseNotifier(options))(report)
}
