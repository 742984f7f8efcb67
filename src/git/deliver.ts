import { randomBytes } from 'node:crypto'
import { copyFile, lstat, mkdir, readdir, readFile, realpath, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { UsageError, UserError } from '../cli/errors.js'
import { gitClient } from './environment.js'
import { authorEnv, openRepo, PushError } from './index.js'

/**
 * The one way a command changes a GitOps repository: every writing command (init, component/env add/remove,
 * integration add, promote, rollback, freeze/unfreeze) plans its files, then hands them here. This module decides
 * how they reach the work tree, git and GitHub:
 *
 *   guard paths → refuse uncommitted edits to them → journal → write atomically → commit → (remote, push, pull request)
 *
 * A failed commit (a pre-commit hook, a bad identity) restores the work tree, the index and the branch exactly as
 * they were. An interrupted run (SIGINT, SIGKILL) leaves a journal in the git directory; the next writing command
 * in that repo rolls the half-done change back before it plans (see recoverInterruptedDelivery), so running the
 * same command again completes the change and commits it. Hand-written rather than a library: no package offers a
 * transactional "write files + git commit" with this recovery.
 */

export interface PullRequestRef {
  number: number
  url: string
  action: 'created' | 'updated' | 'unchanged'
}

/** How to authenticate a push without writing the credential into .git/config. */
export interface PushAuth {
  readonly extraConfig: readonly string[]
  readonly redact: readonly string[]
}

export interface RepoChange {
  /** The GitOps repo folder; `files` are relative to it. */
  readonly dir: string
  /**
   * Repo-relative path → the text it must hold, or null: it must not exist. A path already holding that text is
   * left alone, and committed when it is uncommitted (what an interrupted run leaves).
   */
  readonly files: ReadonlyMap<string, string | null>
  readonly message: string
  /** Commit on this new branch (it must not exist); undefined: the current branch. */
  readonly branch?: string | undefined
  /** Create the repository on this initial branch when `dir` is not one yet (init only). */
  readonly createRepo?: string | undefined
  readonly dryRun?: boolean | undefined
  /** Set this remote's URL before pushing. */
  readonly remoteUrl?: string | undefined
  /** Remote to push to (default origin). */
  readonly remote?: string | undefined
  readonly push?: boolean | undefined
  readonly pushAuth?: PushAuth | undefined
  /** OWNER/REPO: propose the same files as a pull request through the GitHub API. Needs `branch`. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  /** --force: replace uncommitted edits to these files instead of refusing (never commits the edits). */
  readonly replaceEdited?: boolean | undefined
  /** Written after every other file (the ledger): when it is in place, everything else is. */
  readonly writeLast?: readonly string[] | undefined
  /** The command, for hints ("promote"). */
  readonly command: string
  /** What the hints call this change ("promotion"); default "change". */
  readonly noun?: string | undefined
  readonly onProgress?: ((message: string) => void) | undefined
}

/** What every writing command's --json result carries about git: committed or planned, and where it went. */
export interface Delivery {
  /** The branch committed on (or that a dry run would commit on). */
  branch: string | null
  /** The branch the user was on before. */
  base: string | null
  /** The new commit; null when nothing changed or under --dry-run. */
  commit: string | null
  pushed: boolean
  /** Why the push or pull request failed; the commit is kept and named above. */
  pushError: string | null
  pullRequest: PullRequestRef | null
  dryRun: boolean
  /** Unified diff of the change (under --dry-run, else null). */
  diff: string | null
}

/** The git side of a result before anything is committed. */
export function notDelivered(branch: string | null, dryRun: boolean | undefined): Delivery {
  return {
    branch,
    base: null,
    commit: null,
    pushed: false,
    pushError: null,
    pullRequest: null,
    dryRun: dryRun ?? false,
    diff: null,
  }
}

export function parseGitHubRepo(value: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(value)
  if (!match) {
    throw new UsageError(`--github ${value}: expected OWNER/REPO`, { hint: 'For example --github acme/shop-gitops.' })
  }
  return { owner: match[1]!, repo: match[2]! }
}

const TEMP_MARK = '.kg-tmp-'
const JOURNAL = 'konflux-gitops-delivery.json'
const INDEX_BACKUP = 'konflux-gitops-index.before'

interface Journal {
  pid: number
  suffix: string
  message: string
  /** HEAD before (null: unborn). */
  head: string | null
  /** The branch checked out before (null: detached). */
  base: string | null
  /** The new branch this run creates, if any. */
  branch: string | null
  /** Whether the index file existed (its bytes are in INDEX_BACKUP). */
  index: boolean
  /** Path (relative to the repo folder) → text before the run (null: absent). */
  originals: Record<string, string | null>
  /** Directories this run created (relative), deepest last. */
  createdDirs: string[]
}

async function gitDirOf(dir: string): Promise<string> {
  const git = await gitClient(dir)
  return (await git.raw(['rev-parse', '--absolute-git-dir'])).trim()
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw error
  }
}

/**
 * Undo what an interrupted writing command left in `dir` (its journal names every file it touched), and remove
 * temporary files of dead runs. Refuses while another live run holds the journal. Called by every writing command
 * before it reads the repo to plan.
 */
export async function recoverInterruptedDelivery(dir: string): Promise<void> {
  const repo = openRepo(dir)
  if ((await repo.topLevel()) === undefined) return
  const gitDir = await gitDirOf(dir)
  const text = await readText(join(gitDir, JOURNAL))
  if (text === undefined) return
  let journal: Journal
  try {
    journal = JSON.parse(text) as Journal
  } catch {
    await rm(join(gitDir, JOURNAL), { force: true })
    return
  }
  if (pidAlive(journal.pid) && journal.pid !== process.pid) {
    throw new UserError(`another konflux-gitops command (pid ${journal.pid}) is changing ${dir}`, {
      code: 'repo-busy',
      hint: `Wait for it to finish. If no such process runs, remove ${join(gitDir, JOURNAL)}.`,
    })
  }
  // Did the commit land before the run died? Then the change is complete: only the journal is left to remove.
  const git = await gitClient(dir)
  const tip = journal.branch
    ? await git.raw(['rev-parse', '--verify', '-q', `refs/heads/${journal.branch}`]).catch(() => '')
    : await git.raw(['rev-parse', '--verify', '-q', 'HEAD']).catch(() => '')
  const committed = tip.trim() !== '' && tip.trim() !== (journal.head ?? '')
  if (!committed) await rollBack(dir, gitDir, journal)
  await removeTemps(dir, journal)
  await rm(join(gitDir, INDEX_BACKUP), { force: true })
  await rm(join(gitDir, JOURNAL), { force: true })
}

async function removeTemps(dir: string, journal: Journal): Promise<void> {
  const folders = new Set<string>()
  for (const path of Object.keys(journal.originals)) {
    await rm(join(dir, path + journal.suffix), { force: true })
    folders.add(dirname(join(dir, path)))
  }
  await removeDeadTemps(folders)
}

/** `<name>.kg-tmp-<pid>-<hex>` files in these folders whose process is gone. */
async function removeDeadTemps(folders: Iterable<string>): Promise<void> {
  const pattern = /\.kg-tmp-(\d+)-[0-9a-f]+$/
  for (const folder of folders) {
    let entries: string[]
    try {
      entries = await readdir(folder)
    } catch {
      continue
    }
    for (const entry of entries) {
      const match = pattern.exec(entry)
      if (match && !pidAlive(Number(match[1]))) await rm(join(folder, entry), { force: true })
    }
  }
}

/** Put files, index and branch back as the journal says they were. */
async function rollBack(dir: string, gitDir: string, journal: Journal): Promise<void> {
  await rm(join(gitDir, 'index.lock'), { force: true })
  for (const [path, original] of Object.entries(journal.originals)) {
    const file = join(dir, path)
    if (original === null) await rm(file, { force: true })
    else {
      await mkdir(dirname(file), { recursive: true })
      await writeFile(file, original)
    }
  }
  for (const created of [...journal.createdDirs].reverse()) await rmdir(join(dir, created)).catch(() => {})
  if (journal.index) await copyFile(join(gitDir, INDEX_BACKUP), join(gitDir, 'index'))
  else await rm(join(gitDir, 'index'), { force: true })
  if (journal.branch) {
    const git = await gitClient(dir)
    const current = (await git.raw(['symbolic-ref', '-q', 'HEAD']).catch(() => '')).trim()
    if (current === `refs/heads/${journal.branch}`) {
      if (journal.base) await git.raw(['symbolic-ref', 'HEAD', `refs/heads/${journal.base}`])
      else if (journal.head) await git.raw(['update-ref', '--no-deref', 'HEAD', journal.head])
    }
    const tip = (await git.raw(['rev-parse', '--verify', '-q', `refs/heads/${journal.branch}`]).catch(() => '')).trim()
    if (tip !== '' && tip === journal.head) await git.raw(['update-ref', '-d', `refs/heads/${journal.branch}`])
  }
}

/** Remove folders left empty by a deletion, walking up from `relativeDir`. */
async function removeEmptyParents(dir: string, relativeDir: string): Promise<void> {
  let current = relativeDir
  while (current !== '.' && current !== '' && current !== sep) {
    try {
      await rmdir(join(dir, current))
    } catch {
      return
    }
    current = dirname(current)
  }
}

/**
 * Refuse a path that is absolute, climbs out with `..`, or passes through a symbolic link: git cannot commit
 * through a link, and one pointing outside the repository would make this tool read or write a file elsewhere.
 */
export async function guardPaths(dir: string, paths: Iterable<string>): Promise<void> {
  const root = await realpath(dir)
  for (const path of paths) {
    const parts = path.split('/')
    if (isAbsolute(path) || parts.includes('..') || parts.includes('')) {
      throw new UserError(`${path}: not a plain path inside the repository: refusing to write it`, {
        code: 'path-outside-repo',
      })
    }
    let current = root
    for (const part of parts) {
      current = join(current, part)
      let isLink = false
      try {
        isLink = (await lstat(current)).isSymbolicLink()
      } catch {
        break
      }
      if (isLink) {
        const target = await realpath(current).catch(() => undefined)
        const inside = target !== undefined && (target === root || target.startsWith(root + sep))
        const shown = relative(root, current) || '.'
        throw new UserError(
          `${shown} is a symbolic link${target ? ` to ${target}` : ''}${inside ? '' : ', outside the repository'}: refusing to read or write ${path} through it`,
          {
            code: 'path-outside-repo',
            hint: `Replace ${shown} with a real ${parts.length > 1 ? 'folder or file' : 'file'} inside ${root}; konflux-gitops never writes outside the repository.`,
          },
        )
      }
    }
  }
}

async function statusOf(dir: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set()
  const git = await gitClient(dir, { trimmed: false })
  const out = await git.raw([
    'status',
    '--porcelain',
    '-z',
    '--no-renames',
    '--untracked-files=all',
    '--ignored=no',
    '--',
    ...paths,
  ])
  const prefix = (await git.raw(['rev-parse', '--show-prefix'])).trim()
  return new Set(
    out
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3))
      .map((path) => (prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path)),
  )
}

async function unifiedDiff(changes: readonly { path: string; before: string | null; after: string | null }[]) {
  const { createTwoFilesPatch, FILE_HEADERS_ONLY } = await import('diff')
  return changes
    .map((change) =>
      createTwoFilesPatch(
        change.before === null ? '/dev/null' : `a/${change.path}`,
        change.after === null ? '/dev/null' : `b/${change.path}`,
        change.before ?? '',
        change.after ?? '',
        undefined,
        undefined,
        { context: 3, headerOptions: FILE_HEADERS_ONLY },
      ),
    )
    .join('')
}

/** Refuse a branch that already exists (a usage error: the name is the user's or a re-run's). */
export async function assertBranchFree(dir: string, branch: string, noun = 'change'): Promise<void> {
  const git = await gitClient(dir)
  // `rev-parse --verify -q` fails silently (exit 1, no stderr), which simple-git reports as success: list instead.
  const listed = await git.raw(['branch', '--list', '--format=%(refname)', branch]).catch(() => '')
  if (listed.split('\n').includes(`refs/heads/${branch}`)) {
    throw new UsageError(`branch ${branch} already exists`, {
      code: 'branch-exists',
      hint: `Check it out to finish that ${noun}, delete it (git branch -D ${branch}), or name another with --branch.`,
    })
  }
}

/** Write, commit and deliver one change; see the module comment. */
export async function deliver(change: RepoChange): Promise<Delivery> {
  const progress = change.onProgress ?? (() => {})
  const dir = resolve(change.dir)
  const github = change.github === undefined ? undefined : parseGitHubRepo(change.github)
  if (github && change.branch === undefined) throw new Error('deliver: a pull request needs a branch')
  const repo = openRepo(dir)
  const result = notDelivered(change.branch ?? null, change.dryRun)

  const top = await repo.topLevel()
  if (top === undefined && change.createRepo === undefined) {
    throw new UsageError(`${dir} is not in a git repository: ${change.command} commits its change`, {
      code: 'not-a-git-repo',
      hint: `Run it in a clone of the GitOps repository, or make this folder one: git -C ${dir} init && git -C ${dir} add -A && git -C ${dir} commit -m 'GitOps repo'`,
    })
  }
  // Undo a half-done earlier run first, so what is read below is the repository as the user left it.
  if (top !== undefined && !change.dryRun) await recoverInterruptedDelivery(dir)
  const exists = await lstat(dir).then(
    () => true,
    () => false,
  )
  if (exists) await guardPaths(dir, change.files.keys())
  const befores = new Map<string, string | null>()
  for (const path of change.files.keys()) befores.set(path, exists ? ((await readText(join(dir, path))) ?? null) : null)
  const differing = [...change.files].filter(([path, text]) => befores.get(path) !== text).map(([path]) => path)

  if (change.dryRun) {
    result.base = top !== undefined ? ((await repo.currentBranch()) ?? null) : null
    result.branch = change.branch ?? result.base ?? change.createRepo ?? null
    result.diff = await unifiedDiff(
      differing.map((path) => ({ path, before: befores.get(path)!, after: change.files.get(path)! })),
    )
    return result
  }

  // A new repository (init): the folder and its git directory come first, so the journal has a place to live.
  let created: 'dir' | 'git' | undefined
  if (top === undefined && change.createRepo !== undefined) {
    if (!exists) {
      await mkdir(dir, { recursive: true })
      created = 'dir'
    } else created = 'git'
    await repo.init(change.createRepo)
  }

  const dirty = await statusOf(dir, [...change.files.keys()])
  const edited = differing.filter((path) => dirty.has(path))
  if (edited.length > 0 && !change.replaceEdited) {
    throw new UserError(
      `${edited.slice(0, 8).join(', ')}${edited.length > 8 ? ', …' : ''} ${edited.length === 1 ? 'has' : 'have'} uncommitted changes: refusing to mix them into the ${change.noun ?? change.command}`,
      {
        code: 'dirty-tree',
        hint: `Commit or stash ${edited.length === 1 ? 'it' : 'them'}, then run ${change.command} again.`,
      },
    )
  }
  const toCommit = [...change.files.keys()].filter((path) => differing.includes(path) || dirty.has(path))
  result.base = (await repo.currentBranch()) ?? null
  result.branch = change.branch ?? result.base

  if (toCommit.length > 0) {
    if (change.branch !== undefined) await assertBranchFree(dir, change.branch, change.noun)
    const author = await authorEnv(dir)
    await checkIdentity(dir, author, change.command)
    result.commit = await writeAndCommit(dir, change, toCommit, befores, author, created)
    result.branch = (await repo.currentBranch()) ?? change.branch ?? null
    progress(`Committed ${result.commit.slice(0, 12)} on branch ${result.branch}`)
  }

  const remote = change.remote ?? 'origin'
  if (change.remoteUrl) await repo.setRemote(remote, change.remoteUrl)
  if (change.push && (result.commit !== null || (await repo.hasCommits()))) {
    const branch = result.branch ?? 'HEAD'
    try {
      progress(`pushing ${branch} to ${remote}`)
      await repo.push(remote, branch, change.pushAuth ?? {})
      result.pushed = true
    } catch (error) {
      if (!(error instanceof PushError)) throw error
      result.pushError = `${error.message}. The ${change.noun ?? 'change'} is committed locally on branch ${branch}; push it later with: git -C ${dir} push -u ${remote} ${branch}`
    }
  }

  if (github && result.commit !== null) {
    try {
      result.pullRequest = await openPullRequest(change, github, toCommit, progress)
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      result.pushError = `${result.pushError ? `${result.pushError}; ` : ''}pull request not opened: ${error.message}. The ${change.noun ?? 'change'} is committed locally on branch ${result.branch}; run the command again to open it`
    }
  }
  return result
}

/** Fail before anything is written when git would refuse the author or committer (an identity git rejects). */
async function checkIdentity(dir: string, author: NodeJS.ProcessEnv, command: string): Promise<void> {
  const git = await gitClient(dir, { extraEnv: author })
  try {
    await git.raw(['var', 'GIT_COMMITTER_IDENT'])
    await git.raw(['var', 'GIT_AUTHOR_IDENT'])
  } catch (error) {
    throw new UserError(`git has no usable identity to commit with: ${(error as Error).message.trim()}`, {
      code: 'git-identity',
      hint: `Set one (git config user.name 'Your Name'; git config user.email you@example.com), then run ${command} again. Nothing was changed.`,
    })
  }
}

async function writeAndCommit(
  dir: string,
  change: RepoChange,
  toCommit: readonly string[],
  befores: ReadonlyMap<string, string | null>,
  author: NodeJS.ProcessEnv,
  created: 'dir' | 'git' | undefined,
): Promise<string> {
  const gitDir = await gitDirOf(dir)
  const suffix = `${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`
  const git = await gitClient(dir, { extraEnv: author })
  const head = (await git.raw(['rev-parse', '--verify', '-q', 'HEAD']).catch(() => '')).trim() || null
  const base = (await git.raw(['symbolic-ref', '--short', '-q', 'HEAD']).catch(() => '')).trim() || null
  const indexFile = join(gitDir, 'index')
  const hasIndex = await lstat(indexFile).then(
    () => true,
    () => false,
  )
  const createdDirs: string[] = []
  for (const path of toCommit) {
    const text = change.files.get(path)
    if (text === null || text === undefined) continue
    for (let folder = dirname(path); folder !== '.' && folder !== ''; folder = dirname(folder)) {
      const there = await lstat(join(dir, folder)).then(
        () => true,
        () => false,
      )
      if (there) break
      if (!createdDirs.includes(folder)) createdDirs.push(folder)
    }
  }
  createdDirs.sort((a, b) => a.split('/').length - b.split('/').length)
  const journal: Journal = {
    pid: process.pid,
    suffix,
    message: change.message,
    head,
    base,
    branch: change.branch ?? null,
    index: hasIndex,
    originals: Object.fromEntries(toCommit.map((path) => [path, befores.get(path) ?? null])),
    createdDirs,
  }
  if (hasIndex) await copyFile(indexFile, join(gitDir, INDEX_BACKUP))
  await writeFile(join(gitDir, JOURNAL), JSON.stringify(journal), { flag: 'wx' }).catch((error) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    throw new UserError(`another konflux-gitops command is changing ${dir}`, {
      code: 'repo-busy',
      hint: `Wait for it to finish, then run ${change.command} again.`,
    })
  })

  try {
    if (change.branch !== undefined) await git.raw(['switch', '--quiet', '--create', change.branch])
    const last = new Set(change.writeLast ?? [])
    const writes = toCommit.filter(
      (path) => typeof change.files.get(path) === 'string' && befores.get(path) !== change.files.get(path),
    )
    const ordered = [...writes.filter((path) => !last.has(path)), ...writes.filter((path) => last.has(path))]
    // Every new text goes to a temporary file beside its target first; only when all are written are they renamed
    // into place (a rename is atomic), then deletions run, then the files written last.
    for (const path of ordered) {
      const target = join(dir, path)
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target + suffix, change.files.get(path)!, 'utf8')
    }
    for (const path of ordered.filter((p) => !last.has(p))) await rename(join(dir, path) + suffix, join(dir, path))
    for (const path of toCommit) {
      if (change.files.get(path) !== null) continue
      await rm(join(dir, path), { force: true })
      await removeEmptyParents(dir, dirname(path))
    }
    for (const path of ordered.filter((p) => last.has(p))) await rename(join(dir, path) + suffix, join(dir, path))

    await git.raw(['add', '-A', '--', ...toCommit])
    await git.raw(['commit', '--quiet', '-m', change.message, '--', ...toCommit])
  } catch (error) {
    await rollBack(dir, gitDir, journal)
    await removeTemps(dir, journal)
    await rm(join(gitDir, INDEX_BACKUP), { force: true })
    await rm(join(gitDir, JOURNAL), { force: true })
    if (created === 'dir') await rm(dir, { recursive: true, force: true })
    else if (created === 'git') await rm(gitDir, { recursive: true, force: true })
    const detail = ((error as Error).message ?? String(error)).trim()
    throw new UserError(
      `${change.command}: git commit failed: ${detail.split('\n').filter(Boolean).slice(-4).join(' / ')}`,
      {
        code: 'commit-failed',
        hint: `Nothing was changed: the work tree, index and branch are as before. Fix what git reports (a pre-commit hook, the identity), then run ${change.command} again.`,
        cause: error,
      },
    )
  }
  const commit = (await git.revparse(['HEAD'])).trim()
  await rm(join(gitDir, INDEX_BACKUP), { force: true })
  await rm(join(gitDir, JOURNAL), { force: true })
  return commit
}

async function openPullRequest(
  change: RepoChange,
  github: { owner: string; repo: string },
  paths: readonly string[],
  progress: (message: string) => void,
): Promise<PullRequestRef | null> {
  // Through the REST API rather than a git push: it needs only the token, and the pull request's branch holds
  // exactly "the base branch plus this change" even when the local clone is behind.
  const { createGitHubClient, proposeFiles } = await import('../github/index.js')
  const client = await createGitHubClient({ apiUrl: change.githubApiUrl, onNotice: progress })
  const [title, , ...body] = change.message.trimEnd().split('\n')
  const files: Record<string, string> = {}
  for (const path of paths) {
    const text = change.files.get(path)
    if (typeof text === 'string') files[path] = text
  }
  const proposed = await proposeFiles(client, {
    owner: github.owner,
    repo: github.repo,
    branch: change.branch!,
    files,
    title: title!,
    body: body.join('\n'),
    commitMessage: change.message,
  })
  if (proposed.pullRequest?.number != null && proposed.pullRequest.url != null) {
    progress(`Pull request ${proposed.pullRequest.action}: ${proposed.pullRequest.url}`)
    return { number: proposed.pullRequest.number, url: proposed.pullRequest.url, action: proposed.pullRequest.action }
  }
  progress(`${github.owner}/${github.repo} already has this change on its default branch: no pull request needed`)
  return null
}
