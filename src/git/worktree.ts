import { gitClient } from './environment.js'

/**
 * Work-tree questions and branch moves the promote/rollback path needs on top of GitRepo. Kept in their own file
 * (re-exported from index.ts) so they add to the git seam without touching what init relies on.
 */
/** Paths with uncommitted changes, staged or not, plus untracked files (ignored files are not counted). */
export async function dirtyPaths(dir: string): Promise<string[]> {
  // Untrimmed: porcelain lines start with a significant space (" M file"), and trimming would eat the first one's.
  const git = await gitClient(dir, { trimmed: false })
  const status = await git.raw(['status', '--porcelain', '-z', '--untracked-files=all'])
  return status
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3))
}

export async function branchExists(dir: string, branch: string): Promise<boolean> {
  const git = await gitClient(dir)
  // `rev-parse --verify -q` fails silently (exit 1, no stderr), which simple-git reports as success: list instead.
  const listed = await git.raw(['branch', '--list', '--format=%(refname)', branch])
  return listed.split('\n').includes(`refs/heads/${branch}`)
}

/** Create `branch` at HEAD and switch to it; the work tree is kept as it is. */
export async function switchToNewBranch(dir: string, branch: string): Promise<void> {
  const git = await gitClient(dir)
  await git.raw(['switch', '--quiet', '--create', branch])
}

export async function switchBranch(dir: string, branch: string): Promise<void> {
  const git = await gitClient(dir)
  await git.raw(['switch', '--quiet', branch])
}

export async function headCommit(dir: string): Promise<string | undefined> {
  const git = await gitClient(dir)
  const head = await git.raw(['rev-parse', '--verify', '-q', 'HEAD']).catch(() => '')
  return head || undefined
}
