import type { SimpleGit } from 'simple-git'
import { gitClient } from './environment.js'

/**
 * Read-only questions about a repository's remote (doctor): its URL, what it has (ls-remote), and how a local branch
 * compares. Nothing here fetches or writes: doctor must not change the user's repository.
 */
function client(dir: string, timeoutMs?: number): Promise<SimpleGit> {
  // Never wait for a password or host-key prompt: an unattended check must fail, not hang.
  return gitClient(dir, {
    extraEnv: { GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes' },
    timeoutMs,
  })
}

/** The URL of `remote`, or undefined when no such remote is configured. */
export async function remoteUrl(dir: string, remote = 'origin'): Promise<string | undefined> {
  const git = await client(dir)
  try {
    const url = (await git.raw(['remote', 'get-url', remote])).trim()
    return url || undefined
  } catch {
    return undefined
  }
}

/** `refs/heads/main` → commit, as the remote reports them now. Throws with git's message when unreachable. */
export async function lsRemote(dir: string, remote: string, timeoutMs = 20_000): Promise<Map<string, string>> {
  const git = await client(dir, timeoutMs)
  const out = await git.raw(['ls-remote', '--heads', '--', remote])
  const refs = new Map<string, string>()
  for (const line of out.split('\n')) {
    const [sha, ref] = line.trim().split(/\s+/)
    if (sha && ref) refs.set(ref, sha)
  }
  return refs
}

/** The commit a local branch points at, or undefined. */
export async function localBranchCommit(dir: string, branch: string): Promise<string | undefined> {
  const git = await client(dir)
  const listed = await git.raw(['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`]).catch(() => '')
  return listed.trim() || undefined
}

/**
 * How `local` and `remote` commits differ. `unknown` when the remote commit is not in the local object store
 * (not fetched yet): then the local branch is at least behind.
 */
export async function compareCommits(
  dir: string,
  local: string,
  remote: string,
): Promise<{ ahead: number; behind: number } | 'unknown'> {
  if (local === remote) return { ahead: 0, behind: 0 }
  const git = await client(dir)
  const known = await git
    .raw(['cat-file', '-t', remote])
    .then((type) => type.trim() === 'commit')
    .catch(() => false)
  if (!known) return 'unknown'
  const counts = await git.raw(['rev-list', '--left-right', '--count', `${local}...${remote}`])
  const [ahead = 0, behind = 0] = counts.trim().split(/\s+/).map(Number)
  return { ahead, behind }
}
