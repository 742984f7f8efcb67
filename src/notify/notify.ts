import type { GitHubClient } from '../github/index.js'
import {
  DISPATCH_EVENT_TYPE,
  dispatchPayload,
  type MovedImage,
  type NotifyTarget,
  type NotifyVia,
  type PlannedNotification,
  planNotifications,
  tickManualJob,
} from './plan.js'

/** The GitHub calls notify needs: small, so the releaser or a test can pass its own. */
export interface NotifyGitHub {
  dispatch(owner: string, repo: string, eventType: string, payload: Record<string, unknown>): Promise<void>
  /** Open issues titled `title` (not pull requests), with their bodies. */
  findIssues(owner: string, repo: string, title: string): Promise<{ number: number; body: string }[]>
  updateIssueBody(owner: string, repo: string, issueNumber: number, body: string): Promise<void>
  fileExists(owner: string, repo: string, path: string): Promise<boolean>
}

export type NotifyStatus =
  | 'dispatched'
  | 'ticked'
  | 'already-ticked'
  | 'no-dashboard'
  | 'no-checkbox'
  | 'unsupported'
  | 'failed'

export interface NotifyOutcome {
  repository: string
  via: NotifyVia
  snapshot: string
  status: NotifyStatus
  images: MovedImage[]
  /** One line for humans; for anything but dispatched/ticked/already-ticked, what to do. */
  message: string
}

export interface NotifyOptions {
  via?: NotifyVia
  /** Title of the Dependency Dashboard issue (Renovate's dependencyDashboardTitle). */
  dashboardTitle?: string
  onWarning?: (message: string) => void
}

export const DEPENDABOT_NOTE =
  'Dependabot has no API that starts a run: it picks the new digest up on its own schedule (set schedule.interval: daily in .github/dependabot.yml for the shortest wait).'

/** Adapter from the project's GitHub client (Octokit with retry and throttling). */
export function githubNotifier(
  clientFor: GitHubClient | ((owner: string, repo: string) => Promise<GitHubClient>),
): NotifyGitHub {
  // A GitHub App has one installation token per owner: the client is picked per repository.
  const get = typeof clientFor === 'function' ? clientFor : async () => clientFor
  return {
    dispatch: async (owner, repo, eventType, payload) =>
      (await get(owner, repo)).dispatch(owner, repo, eventType, payload),
    async findIssues(owner, repo, title) {
      const client = await get(owner, repo)
      const issues = await client.call(`list issues of ${owner}/${repo}`, (o) =>
        o.paginate(o.rest.issues.listForRepo, { owner, repo, state: 'open', per_page: 100 }),
      )
      return issues
        .filter((issue) => !issue.pull_request && issue.title === title)
        .map((issue) => ({ number: issue.number, body: issue.body ?? '' }))
    },
    async updateIssueBody(owner, repo, issueNumber, body) {
      const client = await get(owner, repo)
      await client.call(`edit issue #${issueNumber} of ${owner}/${repo}`, (o) =>
        o.rest.issues.update({ owner, repo, issue_number: issueNumber, body }),
      )
    },
    async fileExists(owner, repo, path) {
      const client = await get(owner, repo)
      const found = await client.find(`read ${path} of ${owner}/${repo}`, (o) =>
        o.rest.repos.getContent({ owner, repo, path }),
      )
      return found !== undefined
    },
  }
}

/**
 * Send one planned notification. Throws when GitHub fails (so a journal step can retry it with backoff); a ticked
 * box or a missing dashboard are answers, not failures. Ticking is idempotent; a dispatch retried after a lost
 * answer may arrive twice, which only starts one more Renovate run.
 */
export async function sendNotification(
  plan: PlannedNotification,
  github: NotifyGitHub,
  options: { dashboardTitle?: string } = {},
): Promise<NotifyOutcome> {
  return notifyOne(plan, github, options.dashboardTitle ?? 'Dependency Dashboard')
}

async function notifyOne(plan: PlannedNotification, github: NotifyGitHub, title: string): Promise<NotifyOutcome> {
  const base = { repository: plan.repository, via: plan.via, snapshot: plan.snapshot, images: plan.images }
  const digests = plan.images.map((i) => `${i.repository}:${i.tag}@${i.digest.slice(0, 19)}`).join(', ')
  if (plan.updater === 'dependabot') {
    return { ...base, status: 'unsupported', message: `${plan.repository} uses Dependabot. ${DEPENDABOT_NOTE}` }
  }
  if (plan.via === 'dispatch') {
    await github.dispatch(plan.owner, plan.name, DISPATCH_EVENT_TYPE, dispatchPayload(plan))
    return { ...base, status: 'dispatched', message: `sent ${DISPATCH_EVENT_TYPE} to ${plan.repository}: ${digests}` }
  }
  const [dashboard] = await github.findIssues(plan.owner, plan.name, title)
  if (!dashboard) {
    const dependabot =
      (await github.fileExists(plan.owner, plan.name, '.github/dependabot.yml')) ||
      (await github.fileExists(plan.owner, plan.name, '.github/dependabot.yaml'))
    if (dependabot) {
      return { ...base, status: 'unsupported', message: `${plan.repository} uses Dependabot. ${DEPENDABOT_NOTE}` }
    }
    return {
      ...base,
      status: 'no-dashboard',
      message: `${plan.repository} has no open "${title}" issue: Renovate's dependencyDashboard is off, so there is nothing to tick. Turn it on with "dependencyDashboard": true in renovate.json (config:recommended and the konflux-gitops preset turn it on), or use --notify-via dispatch with a Renovate workflow.`,
    }
  }
  const ticked = tickManualJob(dashboard.body)
  if (ticked.status === 'already-ticked') {
    return {
      ...base,
      status: 'already-ticked',
      message: `${plan.repository}: the dashboard's run-again box is already ticked; Renovate will run`,
    }
  }
  if (ticked.status === 'no-checkbox') {
    return {
      ...base,
      status: 'no-checkbox',
      message: `${plan.repository}: dashboard #${dashboard.number} has no "<!-- manual job -->" checkbox (the hosted Renovate app adds it; self-hosted Renovate does not): use --notify-via dispatch with a Renovate workflow.`,
    }
  }
  await github.updateIssueBody(plan.owner, plan.name, dashboard.number, ticked.body)
  return {
    ...base,
    status: 'ticked',
    message: `ticked the run-again box of ${plan.repository} dashboard #${dashboard.number}: ${digests}`,
  }
}

/**
 * Tell each GitOps repository's updater that images it tracks moved: one notification per repository per
 * Snapshot, nothing for tags that did not move. Never throws for one repository's failure: each outcome says what
 * happened, so a release is never held back by a notification (the releaser retries failed ones).
 */
export async function notifyUpdaters(
  moved: readonly MovedImage[],
  targets: readonly NotifyTarget[],
  github: NotifyGitHub,
  options: NotifyOptions = {},
): Promise<NotifyOutcome[]> {
  const title = options.dashboardTitle ?? 'Dependency Dashboard'
  const plans = planNotifications(moved, targets, options.via ?? 'dashboard')
  const outcomes = await Promise.all(
    plans.map(async (plan): Promise<NotifyOutcome> => {
      try {
        return await notifyOne(plan, github, title)
      } catch (error) {
        const e = error as { message?: string; hint?: string }
        return {
          repository: plan.repository,
          via: plan.via,
          snapshot: plan.snapshot,
          images: plan.images,
          status: 'failed',
          message: `${e.message ?? String(error)}${e.hint ? ` (${e.hint})` : ''}`,
        }
      }
    }),
  )
  const warned = new Set<string>()
  for (const outcome of outcomes) {
    if (['dispatched', 'ticked', 'already-ticked'].includes(outcome.status)) continue
    if (warned.has(outcome.repository)) continue
    warned.add(outcome.repository)
    options.onWarning?.(outcome.message)
  }
  return outcomes
}
