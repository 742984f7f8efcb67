import { UserError } from '../cli/errors.js'
import type { GitHubClient, RepositoryInfo } from './client.js'

export type FileStatus = 'added' | 'modified' | 'unchanged'

export interface ProposeFilesOptions {
  owner: string
  repo: string
  /** The branch the pull request comes from; it always holds "base plus these files". */
  branch: string
  files: Record<string, string>
  title: string
  body: string
  commitMessage: string
  /** Create the repository when missing (private or public); without it a missing repository is an error. */
  createRepository?: { private: boolean; description?: string }
  dryRun?: boolean
}

export interface ProposeFilesResult {
  repository: { owner: string; name: string; url: string | null; created: boolean }
  base: string | null
  branch: string
  /** Compared with the base branch: what merging the pull request would change. */
  files: Array<{ path: string; status: FileStatus }>
  commit: string | null
  pullRequest: { number: number | null; url: string | null; action: 'created' | 'updated' | 'unchanged' } | null
  /** True when something was (or, under dry-run, would be) written to GitHub. */
  changed: boolean
  dryRun: boolean
}

/**
 * Propose `files` to a repository's default branch as one pull request, idempotently: files the base already has
 * open nothing; a branch already holding them gets no new commit; an open pull request is updated, not duplicated.
 * Under dry-run only reads are made.
 */
export async function proposeFiles(client: GitHubClient, options: ProposeFilesOptions): Promise<ProposeFilesResult> {
  const { owner, repo, branch, files, dryRun = false } = options
  const paths = Object.keys(files).sort()
  let repository = await client.getRepository(owner, repo)
  let created = false
  if (!repository) {
    if (!options.createRepository) {
      throw new UserError(`repository ${owner}/${repo} does not exist or is not visible to this token`, {
        code: 'github-not-found',
        hint: 'Check the owner and repository names, and that the token can see them.',
      })
    }
    if (dryRun) {
      return {
        repository: { owner, name: repo, url: null, created: true },
        base: null,
        branch,
        files: paths.map((path) => ({ path, status: 'added' })),
        commit: null,
        pullRequest: { number: null, url: null, action: 'created' },
        changed: true,
        dryRun,
      }
    }
    const ensured = await client.ensureRepository(owner, repo, options.createRepository ?? { private: true })
    repository = ensured.repository
    created = ensured.created
  }
  const base = repository.defaultBranch
  const baseHead = await client.branchHead(owner, repo, base)
  const statuses = await compare(client, repository, baseHead === undefined ? undefined : base, files)
  const summary = (partial: Partial<ProposeFilesResult>): ProposeFilesResult => ({
    repository: { owner, name: repo, url: repository.htmlUrl, created },
    base,
    branch,
    files: statuses,
    commit: null,
    pullRequest: null,
    changed: created,
    dryRun,
    ...partial,
  })
  if (statuses.every((file) => file.status === 'unchanged')) return summary({})
  if (baseHead === undefined) {
    throw new UserError(`${owner}/${repo} has no commit on its default branch ${base}; a pull request needs one`, {
      code: 'empty-repository',
      hint: `Add an initial commit to ${owner}/${repo} (a README is enough) and run the command again.`,
    })
  }

  const branchHead = await client.branchHead(owner, repo, branch)
  const branchUpToDate =
    branchHead !== undefined &&
    (await compare(client, repository, branch, files)).every((file) => file.status === 'unchanged')
  const [open] = await client.listOpenPullRequests(owner, repo, { head: branch, base })
  const prAction = open
    ? open.title === options.title && open.body === options.body
      ? 'unchanged'
      : 'updated'
    : 'created'

  if (dryRun) {
    return summary({
      commit: branchUpToDate ? (branchHead ?? null) : null,
      pullRequest: { number: open?.number ?? null, url: open?.url ?? null, action: prAction },
      changed: !branchUpToDate || prAction !== 'unchanged',
    })
  }
  const commit = branchUpToDate
    ? (branchHead as string)
    : (
        await client.commitFiles({
          owner,
          repo,
          branch,
          parentSha: baseHead,
          files: Object.fromEntries(
            statuses.filter((f) => f.status !== 'unchanged').map((f) => [f.path, files[f.path] ?? '']),
          ),
          message: options.commitMessage,
        })
      ).sha
  const pr = await client.openOrUpdatePullRequest({
    owner,
    repo,
    branch,
    base,
    title: options.title,
    body: options.body,
  })
  return summary({
    commit,
    pullRequest: { number: pr.pullRequest.number, url: pr.pullRequest.url, action: pr.action },
    changed: created || !branchUpToDate || pr.action !== 'unchanged',
  })
}

async function compare(
  client: GitHubClient,
  repository: RepositoryInfo,
  ref: string | undefined,
  files: Record<string, string>,
): Promise<Array<{ path: string; status: FileStatus }>> {
  return Promise.all(
    Object.keys(files)
      .sort()
      .map(async (path) => {
        const current =
          ref === undefined ? undefined : await client.readFile(repository.owner, repository.name, path, ref)
        const status: FileStatus = current === undefined ? 'added' : current === files[path] ? 'unchanged' : 'modified'
        return { path, status }
      }),
  )
}
