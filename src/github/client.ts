import type { Octokit } from '@octokit/rest'
import { UsageError, UserError } from '../cli/errors.js'

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com'

export interface GitHubClientOptions {
  /** Defaults to GITHUB_TOKEN, then GH_TOKEN, from `env`. */
  token?: string | undefined
  /** REST base URL; defaults to GITHUB_API_URL from `env`, then https://api.github.com. */
  apiUrl?: string | undefined
  env?: Record<string, string | undefined>
  /** Rate-limit waits and retries, for the user's stderr. */
  onNotice?: (message: string) => void
  /**
   * Octokit's own retries of 5xx answers (default: 3, waiting 1, 4, 9 s). A caller that retries from a journal with
   * its own backoff turns them off, so each failure is seen, counted and scheduled there.
   */
  retry?: { enabled?: boolean; retries?: number }
}

export interface RepositoryInfo {
  owner: string
  name: string
  fullName: string
  private: boolean
  defaultBranch: string
  htmlUrl: string
  /** HTTPS URL git pushes to (GitHub Enterprise: its own host). */
  cloneUrl: string
}

export interface PullRequestInfo {
  number: number
  url: string
  title: string
  body: string
  head: string
  base: string
  state: string
}

export interface IssueInfo {
  number: number
  title: string
  state: string
  labels: string[]
  isPullRequest: boolean
}

/**
 * The one GitHub client: Octokit with retry and throttling, errors turned into messages a user can act on.
 * The token is only ever handed to Octokit (which redacts it); no message built here contains it.
 */
export class GitHubClient {
  readonly apiUrl: string
  readonly octokit: Octokit
  private readonly token: string

  constructor(octokit: Octokit, apiUrl: string, token: string) {
    this.octokit = octokit
    this.apiUrl = apiUrl
    this.token = token
  }

  /** Run one API call; `what` says in the user's words what failed ("create repository acme/x"). */
  async call<T>(what: string, fn: (octokit: Octokit) => Promise<T>, notFound?: () => UserError): Promise<T> {
    try {
      return await fn(this.octokit)
    } catch (error) {
      throw this.explain(what, error, notFound)
    }
  }

  /** Like `call`, but a 404 is an answer (undefined), not an error. */
  async find<T>(what: string, fn: (octokit: Octokit) => Promise<T>): Promise<T | undefined> {
    try {
      return await fn(this.octokit)
    } catch (error) {
      if (statusOf(error) === 404) return undefined
      throw this.explain(what, error)
    }
  }

  async authenticatedLogin(): Promise<string> {
    const { data } = await this.call('read the authenticated user', (o) => o.rest.users.getAuthenticated())
    return data.login
  }

  async getRepository(owner: string, name: string): Promise<RepositoryInfo | undefined> {
    const found = await this.find(`read repository ${owner}/${name}`, (o) => o.rest.repos.get({ owner, repo: name }))
    return found ? toRepositoryInfo(found.data) : undefined
  }

  /**
   * The repository, created when missing: under the organisation `owner`, or under the authenticated user when
   * `owner` is that user. Created with an initial commit so branches and pull requests can be made at once.
   */
  async ensureRepository(
    owner: string,
    name: string,
    options: { private: boolean; description?: string; autoInit?: boolean },
  ): Promise<{ repository: RepositoryInfo; created: boolean }> {
    const existing = await this.getRepository(owner, name)
    if (existing) return { repository: existing, created: false }
    const body = {
      name,
      private: options.private,
      // init --github pushes its own first commit, so it asks for an empty repository.
      auto_init: options.autoInit ?? true,
      ...(options.description ? { description: options.description } : {}),
    }
    // Organisation first: a GitHub App installation token can create org repositories but cannot read /user.
    const organisation = await this.find(`read organisation ${owner}`, (o) => o.rest.orgs.get({ org: owner }))
    if (organisation) {
      const { data } = await this.call(`create repository ${owner}/${name}`, (o) =>
        o.rest.repos.createInOrg({ org: owner, ...body }),
      )
      return { repository: toRepositoryInfo(data), created: true }
    }
    const login = await this.authenticatedLogin()
    if (login.toLowerCase() !== owner.toLowerCase()) {
      throw new UserError(`GitHub organisation "${owner}" does not exist or is not visible to this token`, {
        code: 'github-not-found',
        hint: `Check the spelling of "${owner}", and that the token's user is a member of it.`,
      })
    }
    const { data } = await this.call(`create repository ${owner}/${name}`, (o) =>
      o.rest.repos.createForAuthenticatedUser(body),
    )
    return { repository: toRepositoryInfo(data), created: true }
  }

  /** The commit a branch points at, or undefined when the branch does not exist. */
  async branchHead(owner: string, repo: string, branch: string): Promise<string | undefined> {
    const found = await this.find(`read branch ${branch} of ${owner}/${repo}`, (o) =>
      o.rest.git.getRef({ owner, repo, ref: `heads/${branch}` }),
    )
    return found?.data.object.sha
  }

  /** Text of a file at a ref, or undefined when there is no such file. */
  async readFile(owner: string, repo: string, path: string, ref: string): Promise<string | undefined> {
    const found = await this.find(`read ${path} from ${owner}/${repo}@${ref}`, (o) =>
      o.rest.repos.getContent({ owner, repo, path, ref }),
    )
    if (!found) return undefined
    const data = found.data
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return undefined
    return Buffer.from(data.content, (data.encoding as BufferEncoding) || 'base64').toString('utf8')
  }

  /**
   * One commit with `files` on top of `parentSha`, then `branch` pointed at it (created, or moved even when it
   * had other commits: the branch is ours and always means "base plus these files").
   */
  async commitFiles(options: {
    owner: string
    repo: string
    branch: string
    parentSha: string
    files: Record<string, string>
    message: string
  }): Promise<{ sha: string; branchCreated: boolean }> {
    const { owner, repo, branch, parentSha, files, message } = options
    const where = `${owner}/${repo}`
    const parent = await this.call(`read commit ${parentSha} of ${where}`, (o) =>
      o.rest.git.getCommit({ owner, repo, commit_sha: parentSha }),
    )
    const tree = await this.call(`write files to ${where}`, (o) =>
      o.rest.git.createTree({
        owner,
        repo,
        base_tree: parent.data.tree.sha,
        tree: Object.entries(files).map(([path, content]) => ({
          path,
          mode: '100644' as const,
          type: 'blob',
          content,
        })),
      }),
    )
    const commit = await this.call(`commit to ${where}`, (o) =>
      o.rest.git.createCommit({ owner, repo, message, tree: tree.data.sha, parents: [parentSha] }),
    )
    const existing = await this.branchHead(owner, repo, branch)
    if (existing === undefined) {
      await this.call(`create branch ${branch} in ${where}`, (o) =>
        o.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.data.sha }),
      )
      return { sha: commit.data.sha, branchCreated: true }
    }
    await this.call(`update branch ${branch} in ${where}`, (o) =>
      o.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit.data.sha, force: true }),
    )
    return { sha: commit.data.sha, branchCreated: false }
  }

  async listOpenPullRequests(
    owner: string,
    repo: string,
    filter: { head?: string; base?: string } = {},
  ): Promise<PullRequestInfo[]> {
    const pulls = await this.call(`list pull requests of ${owner}/${repo}`, (o) =>
      o.paginate(o.rest.pulls.list, {
        owner,
        repo,
        state: 'open',
        per_page: 100,
        ...(filter.head ? { head: filter.head.includes(':') ? filter.head : `${owner}:${filter.head}` } : {}),
        ...(filter.base ? { base: filter.base } : {}),
      }),
    )
    return pulls.map(toPullRequestInfo)
  }

  /** Open a pull request from `branch`, or bring the open one's title and body up to date. */
  async openOrUpdatePullRequest(options: {
    owner: string
    repo: string
    branch: string
    base: string
    title: string
    body: string
  }): Promise<{ pullRequest: PullRequestInfo; action: 'created' | 'updated' | 'unchanged' }> {
    const { owner, repo, branch, base, title, body } = options
    const [open] = await this.listOpenPullRequests(owner, repo, { head: branch, base })
    if (open) {
      if (open.title === title && open.body === body) return { pullRequest: open, action: 'unchanged' }
      const { data } = await this.call(`update pull request #${open.number} of ${owner}/${repo}`, (o) =>
        o.rest.pulls.update({ owner, repo, pull_number: open.number, title, body }),
      )
      return { pullRequest: toPullRequestInfo(data), action: 'updated' }
    }
    const { data } = await this.call(`open a pull request in ${owner}/${repo}`, (o) =>
      o.rest.pulls.create({ owner, repo, head: branch, base, title, body }),
    )
    return { pullRequest: toPullRequestInfo(data), action: 'created' }
  }

  async listIssues(
    owner: string,
    repo: string,
    filter: { labels?: string[]; state?: 'open' | 'closed' | 'all' } = {},
  ): Promise<IssueInfo[]> {
    const issues = await this.call(`list issues of ${owner}/${repo}`, (o) =>
      o.paginate(o.rest.issues.listForRepo, {
        owner,
        repo,
        state: filter.state ?? 'open',
        per_page: 100,
        ...(filter.labels?.length ? { labels: filter.labels.join(',') } : {}),
      }),
    )
    return issues.map(toIssueInfo)
  }

  async updateIssue(
    owner: string,
    repo: string,
    issueNumber: number,
    changes: { title?: string; body?: string; state?: 'open' | 'closed'; labels?: string[] },
  ): Promise<IssueInfo> {
    const { data } = await this.call(`update issue #${issueNumber} of ${owner}/${repo}`, (o) =>
      o.rest.issues.update({ owner, repo, issue_number: issueNumber, ...changes }),
    )
    return toIssueInfo(data)
  }

  /** Fire a `repository_dispatch` event (a workflow listening for `eventType` runs). */
  async dispatch(owner: string, repo: string, eventType: string, payload: Record<string, unknown> = {}): Promise<void> {
    await this.call(`send ${eventType} to ${owner}/${repo}`, (o) =>
      o.rest.repos.createDispatchEvent({ owner, repo, event_type: eventType, client_payload: payload }),
    )
  }

  private explain(what: string, error: unknown, notFound?: () => UserError): UserError {
    if (error instanceof UserError) return error
    const status = statusOf(error)
    const detail = this.scrub(githubMessage(error))
    if (status === 401) {
      return new UserError(`cannot ${what}: GitHub rejected the token (401 ${detail || 'Bad credentials'})`, {
        code: 'github-unauthorized',
        hint: 'Set GITHUB_TOKEN or GH_TOKEN to a valid, unexpired token.',
      })
    }
    if (status === 403) {
      return new UserError(`cannot ${what}: GitHub refused (403 ${detail || 'Forbidden'})`, {
        code: 'github-forbidden',
        hint: 'The token needs the "repo" scope (classic token), or Administration, Contents and Pull requests write access (fine-grained token), on that owner.',
      })
    }
    if (status === 404) {
      return (
        notFound?.() ??
        new UserError(`cannot ${what}: not found (404)`, {
          code: 'github-not-found',
          hint: 'Check the owner and repository names, and that the token can see them (private repositories answer 404).',
        })
      )
    }
    if (status !== undefined) {
      return new UserError(`cannot ${what}: GitHub answered ${status}${detail ? ` (${detail})` : ''}`, {
        code: 'github-failed',
      })
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    return new UserError(
      `cannot ${what}: cannot reach the GitHub API at ${this.apiUrl} (${this.scrub(cause?.code ?? cause?.message ?? (error as Error).message)})`,
      { code: 'github-unreachable', hint: 'Check --github-api-url and the network.' },
    )
  }

  private scrub(text: string): string {
    return this.token ? text.replaceAll(this.token, '[REDACTED]') : text
  }
}

/** GITHUB_TOKEN, then GH_TOKEN (the gh CLI's name). */
export function tokenFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  return env.GITHUB_TOKEN?.trim() || env.GH_TOKEN?.trim() || undefined
}

/** Build the client. Octokit and its plugins load here, lazily, so commands that never talk to GitHub stay lean. */
export async function createGitHubClient(options: GitHubClientOptions = {}): Promise<GitHubClient> {
  const env = options.env ?? process.env
  const token = options.token ?? tokenFromEnv(env)
  if (!token) {
    throw new UsageError('no GitHub token: GITHUB_TOKEN and GH_TOKEN are both unset', {
      code: 'missing-token',
      hint: 'Export GITHUB_TOKEN (or GH_TOKEN) with a token that has the "repo" scope, e.g. GITHUB_TOKEN=$(gh auth token).',
    })
  }
  const apiUrl = normaliseApiUrl(options.apiUrl ?? env.GITHUB_API_URL ?? DEFAULT_GITHUB_API_URL)
  const [{ Octokit }, { retry }, { throttling }] = await Promise.all([
    import('@octokit/rest'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ])
  const notice = options.onNotice ?? (() => {})
  const WithPlugins = Octokit.plugin(retry, throttling)
  const octokit = new WithPlugins({
    auth: token,
    baseUrl: apiUrl,
    userAgent: 'konflux-gitops',
    ...(options.retry ? { retry: options.retry } : {}),
    log: { debug: () => {}, info: () => {}, warn: (message: string) => notice(message), error: () => {} },
    throttle: {
      // GitHub asks for a second between writes (secondary rate limits); a loopback URL is a local fake or proxy
      // with no such limit, and spacing writes there only slows tests and dry runs down.
      enabled: !isLoopback(apiUrl),
      onRateLimit: (
        retryAfter: number,
        request: { method: string; url: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        notice(`GitHub rate limit reached on ${request.method} ${request.url}; retrying in ${retryAfter}s`)
        return retryCount < 2
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        request: { method: string; url: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        notice(`GitHub secondary rate limit on ${request.method} ${request.url}; retrying in ${retryAfter}s`)
        return retryCount < 2
      },
    },
  }) as unknown as Octokit
  return new GitHubClient(octokit, apiUrl, token)
}

function normaliseApiUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--github-api-url: "${value}" is not a URL`, {
      hint: 'Use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.',
    })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--github-api-url: "${value}" must be an http(s) URL`)
  }
  return url.toString().replace(/\/+$/, '')
}

function isLoopback(apiUrl: string): boolean {
  const host = new URL(apiUrl).hostname
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host)
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status
  return typeof status === 'number' ? status : undefined
}

function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: unknown } })?.response?.data
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') return data.message
  return ''
}

function toRepositoryInfo(data: {
  name: string
  full_name: string
  private: boolean
  default_branch: string
  html_url: string
  clone_url: string
  owner: { login: string }
}): RepositoryInfo {
  return {
    owner: data.owner.login,
    name: data.name,
    fullName: data.full_name,
    private: data.private,
    defaultBranch: data.default_branch,
    htmlUrl: data.html_url,
    cloneUrl: data.clone_url,
  }
}

function toPullRequestInfo(data: {
  number: number
  html_url: string
  title: string
  body: string | null
  state: string
  head: { ref: string }
  base: { ref: string }
}): PullRequestInfo {
  return {
    number: data.number,
    url: data.html_url,
    title: data.title,
    body: data.body ?? '',
    head: data.head.ref,
    base: data.base.ref,
    state: data.state,
  }
}

function toIssueInfo(data: {
  number: number
  title: string
  state: string
  labels: Array<string | { name?: string }>
  pull_request?: unknown
}): IssueInfo {
  return {
    number: data.number,
    title: data.title,
    state: data.state,
    labels: data.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).filter(Boolean),
    isPullRequest: data.pull_request !== undefined && data.pull_request !== null,
  }
}
