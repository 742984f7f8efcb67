import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { SimpleGit } from 'simple-git'
import { UserError } from '../cli/errors.js'
import { gitClient } from './environment.js'

/** Used when neither git config nor the environment names an author, so a commit never fails for want of one. */
export const FALLBACK_AUTHOR = { name: 'konflux-gitops', email: 'noreply@konflux-gitops.dev' }

export interface GitRepo {
  readonly dir: string
  /** Is `dir` the top of a git work tree? */
  isRepo(): Promise<boolean>
  /** The top of the work tree containing `dir`, if any (it may be a parent of `dir`). */
  topLevel(): Promise<string | undefined>
  hasCommits(): Promise<boolean>
  /** Files git knows or sees in the work tree (tracked plus untracked, not ignored). */
  listFiles(): Promise<string[]>
  init(branch: string): Promise<void>
  currentBranch(): Promise<string | undefined>
  setRemote(name: string, url: string): Promise<void>
  push(
    remote: string,
    branch: string,
    options?: { extraConfig?: readonly string[]; redact?: readonly string[] },
  ): Promise<void>
}

// Porcelain output starts with a significant space: trim by hand where wanted.
function client(dir: string, extraEnv?: NodeJS.ProcessEnv): Promise<SimpleGit> {
  return gitClient(dir, { extraEnv, trimmed: false })
}

function errorText(error: unknown, redact: readonly string[] = []): string {
  let text = (error as Error).message ?? String(error)
  for (const secret of redact) if (secret) text = text.replaceAll(secret, '***')
  return text.trim()
}

export function openRepo(dir: string): GitRepo {
  const absolute = resolve(dir)
  return {
    dir: absolute,

    async isRepo() {
      const top = await this.topLevel()
      return top !== undefined && resolve(top) === (await realPath(absolute))
    },

    async topLevel() {
      try {
        await stat(absolute)
      } catch {
        return undefined
      }
      const git = await client(absolute)
      try {
        const top = (await git.revparse(['--show-toplevel'])).trim()
        return top || undefined
      } catch (error) {
        if (/not a git repository/i.test(errorText(error))) return undefined
        throw new UserError(`git cannot inspect ${absolute}: ${errorText(error)}`)
      }
    },

    async hasCommits() {
      const git = await client(absolute)
      // `rev-parse --verify -q` on an unborn HEAD exits 1 with no stderr, which simple-git reports as success:
      // judge by its output instead.
      const head = await git.raw(['rev-parse', '--verify', '-q', 'HEAD']).catch(() => '')
      return head.trim() !== ''
    },

    async listFiles() {
      const git = await client(absolute)
      const out = await git.raw(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
      return out.split('\0').filter(Boolean)
    },

    async init(branch) {
      const git = await client(absolute)
      await git.raw(['init', `--initial-branch=${branch}`])
    },

    async currentBranch() {
      const git = await client(absolute)
      try {
        return (await git.raw(['symbolic-ref', '--short', '-q', 'HEAD'])).trim() || undefined
      } catch {
        return undefined
      }
    },

    async setRemote(name, url) {
      const git = await client(absolute)
      const remotes = await git.getRemotes()
      if (remotes.some((remote) => remote.name === name)) await git.remote(['set-url', name, url])
      else await git.addRemote(name, url)
    },

    async push(remote, branch, options = {}) {
      // Extra config (a credential header) travels in GIT_CONFIG_* variables: not in .git/config, not in `ps`.
      const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' }
      let count = Number(process.env.GIT_CONFIG_COUNT ?? 0) || 0
      for (const entry of options.extraConfig ?? []) {
        const eq = entry.indexOf('=')
        env[`GIT_CONFIG_KEY_${count}`] = entry.slice(0, eq)
        env[`GIT_CONFIG_VALUE_${count}`] = entry.slice(eq + 1)
        count++
      }
      if (count > 0) env.GIT_CONFIG_COUNT = String(count)
      const git = await client(absolute, env)
      try {
        await git.raw(['push', '--porcelain', '-u', remote, `refs/heads/${branch}:refs/heads/${branch}`])
      } catch (error) {
        throw new PushError(errorText(error, options.redact))
      }
    },
  }
}

export class PushError extends UserError {
  constructor(detail: string) {
    super(`git push failed: ${detail.split('\n').filter(Boolean).slice(-3).join(' / ')}`, { code: 'push-failed' })
    this.name = 'PushError'
  }
}

async function realPath(path: string): Promise<string> {
  const { realpath } = await import('node:fs/promises')
  try {
    return await realpath(path)
  } catch {
    return path
  }
}

/** Author and committer from git config or the environment; the fallback only fills what is missing. */
export async function authorEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const git = await client(dir)
  const config = async (key: string) => {
    try {
      return (await git.raw(['config', '--get', key])).trim() || undefined
    } catch {
      return undefined
    }
  }
  const name = (await config('user.name')) ?? process.env.GIT_AUTHOR_NAME
  const email = (await config('user.email')) ?? process.env.GIT_AUTHOR_EMAIL
  const env: NodeJS.ProcessEnv = {}
  if (!name) {
    env.GIT_AUTHOR_NAME = FALLBACK_AUTHOR.name
    env.GIT_COMMITTER_NAME = process.env.GIT_COMMITTER_NAME ?? FALLBACK_AUTHOR.name
  }
  if (!email) {
    env.GIT_AUTHOR_EMAIL = FALLBACK_AUTHOR.email
    env.GIT_COMMITTER_EMAIL = process.env.GIT_COMMITTER_EMAIL ?? FALLBACK_AUTHOR.email
  }
  return env
}

export {
  assertBranchFree,
  type Delivery,
  deliver,
  guardPaths,
  notDelivered,
  type PullRequestRef,
  type PushAuth,
  parseGitHubRepo,
  type RepoChange,
  recoverInterruptedDelivery,
} from './deliver.js'
export {
  deliveryExitCode,
  deliveryOf,
  describeCommit,
  describeProposedChange,
  describePullRequest,
  type ProposedChange,
  type ProposeOptions,
} from './propose-change.js'
export { compareCommits, localBranchCommit, lsRemote, remoteUrl } from './remote.js'
