import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError, UserError } from '../cli/errors.js'
import { openRepo } from './index.js'
import { branchExists, dirtyPaths, switchBranch, switchToNewBranch } from './worktree.js'

/**
 * The "commit these file changes (on a new branch), push, open a pull request" path shared by the commands that
 * propose a change to a GitOps repo (promote, rollback, freeze/unfreeze). Extracted here so each
 * command plans its files and message, and this one place decides how they reach git and GitHub.
 */

export interface PullRequestRef {
  number: number
  url: string
  action: 'created' | 'updated' | 'unchanged'
}

export interface ChangeToCommit {
  readonly dir: string
  /** Repo-relative path → new text. Only files whose text differs from the work tree are written. */
  readonly files: ReadonlyMap<string, string>
  readonly message: string
  /** Commit on this new branch; undefined: commit on the current branch. */
  readonly branch?: string | undefined
  readonly push?: boolean | undefined
  readonly remote?: string | undefined
  /** OWNER/REPO: propose the same files as a pull request through the GitHub API. Needs `branch`. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  /** What the hints call this change ("finish that promotion"); default "change". */
  readonly noun?: string | undefined
  readonly onProgress?: ((message: string) => void) | undefined
}

export interface CommittedChange {
  branch: string | null
  /** The branch the user was on before. */
  base: string | null
  commit: string | null
  pushed: boolean
  pullRequest: PullRequestRef | null
}

/** The options every command that proposes a change takes, as its service sees them. */
export interface ProposeOptions {
  /** Commit on this new branch (each command has its own default). */
  readonly branch?: string | undefined
  readonly push?: boolean
  readonly remote?: string
  /** OWNER/REPO: open (or update) a pull request there. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  readonly dryRun?: boolean
}

/** Where a change goes once committed, as the user asked (the branch is each command's own default). */
export function deliveryOf(
  options: ProposeOptions,
): Pick<ChangeToCommit, 'push' | 'remote' | 'github' | 'githubApiUrl'> {
  return { push: options.push, remote: options.remote, github: options.github, githubApiUrl: options.githubApiUrl }
}

/** What those commands report about git: committed, or planned under --dry-run with its diff. */
export interface ProposedChange extends CommittedChange {
  dryRun: boolean
  /** Unified diff of the change (always under dry-run, else null). */
  diff: string | null
}

/** The git side of a result before anything is committed. */
export function notCommitted(branch: string | null, dryRun: boolean | undefined): ProposedChange {
  return { branch, base: null, commit: null, pushed: false, pullRequest: null, dryRun: dryRun ?? false, diff: null }
}

/** "committed <sha> on branch <b> (pushed)": the line every proposing command ends its summary with. */
export function describeCommit(result: CommittedChange): string {
  return `committed ${result.commit?.slice(0, 12)} on branch ${result.branch}${result.pushed ? ' (pushed)' : ''}`
}

export function describePullRequest(result: CommittedChange): string | undefined {
  return result.pullRequest ? `pull request: ${result.pullRequest.url}` : undefined
}

/** The end of promote's and rollback's summary: the diff under --dry-run, else the commit; then the pull request. */
export function describeProposedChange(result: ProposedChange): string {
  const lines = [
    result.dryRun
      ? `\n${result.diff ?? ''}(dry run: nothing written; would commit on ${result.branch})`
      : describeCommit(result),
  ]
  const pullRequest = describePullRequest(result)
  if (pullRequest) lines.push(pullRequest)
  return lines.join('\n')
}

export function parseGitHubRepo(value: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(value)
  if (!match) {
    throw new UsageError(`--github ${value}: expected OWNER/REPO`, { hint: 'For example --github acme/shop-gitops.' })
  }
  return { owner: match[1]!, repo: match[2]! }
}

/** How a command names itself and its change in the refusals below (promote says "promotion", not "promote"). */
export interface ChangeWording {
  /** What the command does with git, after its name: default "commits its change". */
  readonly commits?: string | undefined
  /** The change it would mix local edits into: default the command's name. */
  readonly change?: string | undefined
}

/** Refuse to run where a commit would mix in someone's uncommitted work, or where there is no repository. */
export async function assertCleanRepo(dir: string, command: string, wording: ChangeWording = {}): Promise<void> {
  if ((await openRepo(dir).topLevel()) === undefined) {
    throw new UsageError(`${dir} is not in a git repository: ${command} ${wording.commits ?? 'commits its change'}`, {
      code: 'not-a-git-repo',
      hint: 'Run it in a clone of the GitOps repository.',
    })
  }
  const dirty = await dirtyPaths(dir)
  if (dirty.length > 0) {
    throw new UserError(
      `the work tree has uncommitted changes (${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', …' : ''}): refusing to mix them into the ${wording.change ?? command}`,
      { code: 'dirty-tree', hint: `Commit or stash them, then run ${command} again.` },
    )
  }
}

export async function assertBranchFree(dir: string, branch: string, noun = 'change'): Promise<void> {
  if (await branchExists(dir, branch)) {
    throw new UserError(`branch ${branch} already exists`, {
      code: 'branch-exists',
      hint: `Check it out to finish that ${noun}, delete it (git branch -D ${branch}), or name another with --branch.`,
    })
  }
}

/** Unified diff of the planned files against the work tree (for --dry-run). */
export async function diffAgainstTree(dir: string, files: ReadonlyMap<string, string>): Promise<string> {
  const { createTwoFilesPatch } = await import('diff')
  const parts: string[] = []
  for (const [path, text] of files) {
    const before = await readText(join(dir, path))
    if (before !== text) parts.push(createTwoFilesPatch(`a/${path}`, `b/${path}`, before ?? '', text))
  }
  return parts.join('')
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Write the files, commit them (on a new branch when asked), then push and/or open a pull request. A failed write or
 * commit puts the files back and returns to the starting branch; a failed push keeps the commit and says how to push.
 */
export async function commitChange(change: ChangeToCommit): Promise<CommittedChange> {
  const progress = change.onProgress ?? (() => {})
  const { dir } = change
  const github = change.github === undefined ? undefined : parseGitHubRepo(change.github)
  if (github && change.branch === undefined) throw new Error('commitChange: a pull request needs a branch')
  const repo = openRepo(dir)
  const originals = new Map<string, string | undefined>()
  for (const path of change.files.keys()) originals.set(path, await readText(join(dir, path)))
  const changed = [...change.files].filter(([path, text]) => originals.get(path) !== text)
  const result: CommittedChange = {
    branch: change.branch ?? null,
    base: (await repo.currentBranch()) ?? null,
    commit: null,
    pushed: false,
    pullRequest: null,
  }
  if (changed.length === 0) return result
  if (change.branch !== undefined) {
    await assertBranchFree(dir, change.branch, change.noun)
    await switchToNewBranch(dir, change.branch)
  }
  try {
    for (const [path, text] of changed) {
      const file = join(dir, path)
      const partial = `${file}.${process.pid}.tmp`
      await writeFile(partial, text)
      await rename(partial, file)
    }
    result.commit = await repo.commitPaths(
      changed.map(([path]) => path),
      change.message,
    )
  } catch (error) {
    for (const [path, original] of originals) {
      if (original !== undefined) await writeFile(join(dir, path), original)
    }
    if (change.branch !== undefined && result.base) await switchBranch(dir, result.base).catch(() => {})
    throw error
  }
  result.branch = (await repo.currentBranch()) ?? change.branch ?? null
  progress(`Committed ${result.commit?.slice(0, 12)} on branch ${result.branch}`)

  if (change.push) {
    const remote = change.remote ?? 'origin'
    const branch = result.branch ?? 'HEAD'
    try {
      await repo.push(remote, branch)
    } catch (error) {
      if (error instanceof UserError) {
        throw new UserError(error.message, {
          code: error.code,
          hint: `The ${change.noun ?? 'change'} is committed locally on branch ${branch}; push it later with: git push -u ${remote} ${branch}`,
        })
      }
      throw error
    }
    result.pushed = true
    progress(`Pushed ${branch} to ${remote}`)
  }

  if (github) {
    // Through the REST API rather than a git push: it needs only the token, and the pull request's branch holds
    // exactly "the base branch plus this change" even when the local clone is behind.
    const { createGitHubClient, proposeFiles } = await import('../github/index.js')
    const client = await createGitHubClient({ apiUrl: change.githubApiUrl, onNotice: progress })
    const [title, , ...body] = change.message.trimEnd().split('\n')
    const proposed = await proposeFiles(client, {
      owner: github.owner,
      repo: github.repo,
      branch: change.branch!,
      files: Object.fromEntries(changed),
      title: title!,
      body: body.join('\n'),
      commitMessage: change.message,
    })
    if (proposed.pullRequest?.number != null && proposed.pullRequest.url != null) {
      result.pullRequest = {
        number: proposed.pullRequest.number,
        url: proposed.pullRequest.url,
        action: proposed.pullRequest.action,
      }
      progress(`Pull request ${proposed.pullRequest.action}: ${proposed.pullRequest.url}`)
    } else {
      progress(`${github.owner}/${github.repo} already has this change on its default branch: no pull request needed`)
    }
  }
  return result
}
