import { readFileSync } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Document } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { openRepo, recoverInterruptedDelivery } from '../git/index.js'
import type { ReadText } from '../pins/index.js'
import { type RepoSpec, readSpec, SPEC_FILE } from '../spec/index.js'

/**
 * Opening a GitOps repository: the one place that finds the folder, its git repository and its spec, and the one
 * error for "this is not a konflux-gitops repo". Every command that reads or changes a GitOps repo starts here.
 */

/** The single error code for a folder without a konflux-gitops spec. */
export const NOT_A_GITOPS_REPO = 'not-a-konflux-gitops-repo'

export interface GitOpsRepo {
  /** Absolute path of the repo folder. */
  readonly dir: string
  readonly spec: RepoSpec
  /** The spec as parsed (comments and order), for writing it back. */
  readonly document: Document
  /** Repo-relative reads of the work tree, undefined when absent. */
  readonly readText: ReadText
}

export interface OpenOptions {
  /** The writing command opening the repo: it must be in git, and a half-done earlier run is rolled back first. */
  readonly write?: string | undefined
}

/** Read a repo-relative file synchronously, undefined when absent: what the pin seam reads through. */
export function repoReader(dir: string): ReadText {
  return (path) => {
    try {
      return readFileSync(join(dir, path), 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw error
    }
  }
}

function notAGitOpsRepo(dir: string, why: string): UsageError {
  return new UsageError(`${dir} ${why}: it is not a konflux-gitops repo`, {
    code: NOT_A_GITOPS_REPO,
    hint: `Pass the GitOps repo folder (the one holding ${SPEC_FILE}) as DIR, or create one with: konflux-gitops init ${dir}`,
  })
}

/** Open an existing konflux-gitops repo (the folder holding konflux-gitops.yaml). */
export async function openGitOpsRepo(dirArg: string, options: OpenOptions = {}): Promise<GitOpsRepo> {
  const dir = resolve(dirArg)
  try {
    if (!(await stat(dir)).isDirectory()) throw notAGitOpsRepo(dir, 'is not a folder')
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw notAGitOpsRepo(dir, 'does not exist')
  }
  if ((await readSpec(dir)) === undefined) throw notAGitOpsRepo(dir, `has no ${SPEC_FILE}`)
  if (options.write !== undefined) {
    if ((await openRepo(dir).topLevel()) === undefined) {
      throw new UsageError(`${dir} is not in a git repository: ${options.write} commits its change`, {
        code: 'not-a-git-repo',
        hint: `Run it in a clone of the GitOps repository, or make this folder one: git -C ${dir} init && git -C ${dir} add -A && git -C ${dir} commit -m 'GitOps repo'`,
      })
    }
    await recoverInterruptedDelivery(dir)
  }
  const loaded = await readSpec(dir)
  if (!loaded) throw notAGitOpsRepo(dir, `has no ${SPEC_FILE}`)
  return { dir, spec: loaded.spec, document: loaded.document, readText: repoReader(dir) }
}

/** Only the spec (read-only commands). */
export async function loadRepoSpec(dir: string): Promise<RepoSpec> {
  return (await openGitOpsRepo(dir)).spec
}

export interface InitTarget {
  readonly dir: string
  /** The spec there now; undefined for a new repo. */
  readonly current: { spec: RepoSpec; document: Document } | undefined
}

async function nearestExisting(path: string): Promise<string> {
  let current = path
  for (;;) {
    try {
      await stat(current)
      return current
    } catch {
      const parent = dirname(current)
      if (parent === current) return current
      current = parent
    }
  }
}

/**
 * Where `init` works: a new or empty folder (it becomes a repository), or an existing konflux-gitops repository.
 * Refuses a folder inside another repository, a folder with files but no spec (unless `adopt`), and a spec without
 * a git repository (init never runs `git init` over existing work).
 */
export async function openInitTarget(
  dirArg: string,
  options: { adopt: boolean; dryRun?: boolean },
): Promise<InitTarget> {
  const dir = resolve(dirArg)
  const existing = await nearestExisting(dir)
  const top = await openRepo(existing).topLevel()
  const realDir = existing === dir ? await realpath(dir) : dir
  if (top !== undefined && resolve(top) !== realDir) {
    throw new UsageError(`${dir} is inside the git repository ${top}, not the top of a repository`, {
      code: 'inside-another-repo',
      hint: `A GitOps repo must be its own repository: use a directory outside ${top} (or ${top} itself).`,
    })
  }
  if (top !== undefined && !options.dryRun) await recoverInterruptedDelivery(dir)
  const current = await readSpec(dir)
  if (current && top === undefined) {
    throw new UsageError(`${dir} holds ${SPEC_FILE} but is not a git repository`, {
      code: 'not-a-git-repo',
      hint: `konflux-gitops commits every change and will not run git init over existing files. Make it a repository first (git -C ${dir} init && git -C ${dir} add -A && git -C ${dir} commit -m 'GitOps repo'), or clone the repository it came from, then run init again.`,
    })
  }
  if (!current && !options.adopt && existing === dir) {
    const entries = (await readdir(dir)).filter((entry) => entry !== '.git')
    const hasHistory = top !== undefined && (await openRepo(dir).hasCommits())
    if (entries.length > 0 || hasHistory) {
      throw new UsageError(
        `${dir} already holds ${hasHistory ? 'a git repository' : 'files'} without ${SPEC_FILE}: not a konflux-gitops repo`,
        {
          code: NOT_A_GITOPS_REPO,
          hint: 'Use a new or empty directory, or pass --force to add the konflux-gitops layout to it.',
        },
      )
    }
  }
  return { dir, current: current ? { spec: current.spec, document: current.document } : undefined }
}

export function findEnvironment(spec: RepoSpec, name: string) {
  const env = spec.environments.find((e) => e.name === name)
  if (!env) {
    throw new UsageError(`environment "${name}" is not in ${SPEC_FILE}`, {
      code: 'unknown-environment',
      hint: `Known environments: ${spec.environments.map((e) => e.name).join(', ') || 'none'}.`,
    })
  }
  return env
}

/** Refuse component names the spec does not know, naming the ones it does. */
export function assertKnownComponents(spec: RepoSpec, names: Iterable<string>): void {
  const known = new Set(spec.components.map((c) => c.name))
  const unknown = [...names].filter((name) => !known.has(name))
  if (unknown.length > 0) {
    throw new UsageError(`unknown component${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      code: 'unknown-component',
      hint: `Components of this repo: ${[...known].join(', ') || 'none'}.`,
    })
  }
}

/**
 * The components a promote or rollback plan covers: the requested ones (each once, all known to the spec), else
 * every spec component that `pins` pin, in the spec's order. `requested` is undefined when none were named.
 */
export function componentsToPlan(
  spec: RepoSpec,
  components: readonly string[] | undefined,
  pins: readonly { readonly component: string | undefined }[],
): { requested: string[] | undefined; names: string[] } {
  const requested = components?.length ? [...new Set(components)] : undefined
  assertKnownComponents(spec, requested ?? [])
  const names =
    requested ?? spec.components.map((c) => c.name).filter((name) => pins.some((pin) => pin.component === name))
  return { requested, names }
}
