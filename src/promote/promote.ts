import { readFile, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { UsageError, UserError } from '../cli/errors.js'
import { branchExists, dirtyPaths, openRepo, switchBranch, switchToNewBranch } from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { findEnvironment, loadRepoSpec, repoReader } from '../render/index.js'
import { commitMessage, defaultBranchName, type PromotionChange, planPromotion } from './plan.js'

export interface PromoteOptions {
  readonly dir: string
  readonly from: string
  readonly to: string
  readonly components?: readonly string[]
  readonly branch?: string | undefined
  readonly push?: boolean
  readonly remote?: string
  /** OWNER/REPO: push, then open (or update) a pull request there. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  readonly dryRun?: boolean
  /** Promote into a frozen environment anyway. */
  readonly force?: boolean
}

export interface PromoteResult {
  from: string
  to: string
  changes: PromotionChange[]
  unchanged: string[]
  /** Repo-relative files the promotion changes. */
  files: string[]
  branch: string | null
  base: string | null
  commit: string | null
  pushed: boolean
  pullRequest: { number: number; url: string; action: 'created' | 'updated' | 'unchanged' } | null
  dryRun: boolean
  /** Unified diff of the change (always under dry-run, else null). */
  diff: string | null
}

export interface PromoteDeps {
  /** Progress lines for stderr. */
  onProgress?: (message: string) => void
}

function parseGitHubRepo(value: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(value)
  if (!match) {
    throw new UsageError(`--github ${value}: expected OWNER/REPO`, { hint: 'For example --github acme/shop-gitops.' })
  }
  return { owner: match[1]!, repo: match[2]! }
}

export async function promote(options: PromoteOptions, deps: PromoteDeps = {}): Promise<PromoteResult> {
  const progress = deps.onProgress ?? (() => {})
  const dir = resolve(options.dir)
  const github = options.github === undefined ? undefined : parseGitHubRepo(options.github)
  const spec = await loadRepoSpec(dir)
  findEnvironment(spec, options.from)
  const target = findEnvironment(spec, options.to)
  if (target.frozen && !options.force) {
    throw new UserError(
      `environment ${target.name} is frozen (by ${target.frozen.by} at ${target.frozen.at}${target.frozen.reason ? `: ${target.frozen.reason}` : ''})`,
      { code: 'environment-frozen', hint: `Unfreeze it first, or pass --force to promote into it anyway.` },
    )
  }

  const repo = openRepo(dir)
  if ((await repo.topLevel()) === undefined) {
    throw new UsageError(`${dir} is not in a git repository: promote commits its change on a new branch`, {
      code: 'not-a-git-repo',
      hint: 'Run it in a clone of the GitOps repository.',
    })
  }
  const dirty = await dirtyPaths(dir)
  if (dirty.length > 0) {
    throw new UserError(
      `the work tree has uncommitted changes (${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', …' : ''}): refusing to mix them into the promotion`,
      { code: 'dirty-tree', hint: 'Commit or stash them, then run promote again.' },
    )
  }

  const store = pinStoreFor(spec)
  const readText = repoReader(dir)
  const plan = planPromotion({
    spec,
    from: options.from,
    to: options.to,
    fromPins: store.read(spec, options.from, readText),
    toPins: store.read(spec, options.to, readText),
    components: options.components,
  })
  const result: PromoteResult = {
    from: plan.from,
    to: plan.to,
    changes: [...plan.changes],
    unchanged: [...plan.unchanged],
    files: [],
    branch: null,
    base: null,
    commit: null,
    pushed: false,
    pullRequest: null,
    dryRun: options.dryRun ?? false,
    diff: null,
  }
  if (plan.changes.length === 0) return result

  const written = store.write(spec, options.to, readText, {
    pins: new Map(plan.changes.map((change) => [change.component, change.digest])),
  })
  const changedFiles = [...written].filter(([path, text]) => readText(path) !== text)
  result.files = changedFiles.map(([path]) => path)
  result.base = (await repo.currentBranch()) ?? null
  const branch = options.branch ?? defaultBranchName(plan)
  result.branch = branch

  if (options.dryRun) {
    const { createTwoFilesPatch } = await import('diff')
    result.diff = changedFiles
      .map(([path, text]) => createTwoFilesPatch(`a/${path}`, `b/${path}`, readText(path) ?? '', text))
      .join('')
    return result
  }

  if (await branchExists(dir, branch)) {
    throw new UserError(`branch ${branch} already exists`, {
      code: 'branch-exists',
      hint: `Check it out to finish that promotion, delete it (git branch -D ${branch}), or name another with --branch.`,
    })
  }
  await switchToNewBranch(dir, branch)
  try {
    for (const [path, text] of changedFiles) {
      const file = join(dir, path)
      const partial = `${file}.${process.pid}.tmp`
      await writeFile(partial, text)
      await rename(partial, file)
    }
    result.commit = await repo.commitPaths(result.files, commitMessage(plan))
  } catch (error) {
    // Leave the user where they were, with nothing half-written.
    for (const [path] of changedFiles) {
      const original = readText(path)
      if (original !== undefined && (await readFile(join(dir, path), 'utf8')) !== original) {
        await writeFile(join(dir, path), original)
      }
    }
    if (result.base) await switchBranch(dir, result.base).catch(() => {})
    throw error
  }
  progress(`Committed ${result.commit?.slice(0, 12)} on branch ${branch}`)

  if (options.push) {
    const remote = options.remote ?? 'origin'
    try {
      await repo.push(remote, branch)
    } catch (error) {
      if (error instanceof UserError) {
        throw new UserError(error.message, {
          code: error.code,
          hint: `The promotion is committed locally on branch ${branch}; push it later with: git push -u ${remote} ${branch}`,
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
    const client = await createGitHubClient({ apiUrl: options.githubApiUrl, onNotice: progress })
    const message = commitMessage(plan)
    const [title, , ...body] = message.trimEnd().split('\n')
    const proposed = await proposeFiles(client, {
      owner: github.owner,
      repo: github.repo,
      branch,
      files: Object.fromEntries(changedFiles),
      title: title!,
      body: body.join('\n'),
      commitMessage: message,
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
