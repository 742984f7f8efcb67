import { resolve } from 'node:path'
import { UsageError, UserError } from '../cli/errors.js'
import { type ComponentPin, type PinStore, pinStoreFor } from '../pins/index.js'
import { assertKnownComponents, findEnvironment, loadRepoSpec } from '../repo/index.js'
import { parseSpec, type RepoSpec, SPEC_FILE } from '../spec/index.js'
import { commitsTouching, GitFailed, RevisionReader, resolveCommit } from './git-log.js'
import { type PinChange, pinChangesOf } from './plan.js'

export interface HistoryOptions {
  readonly dir: string
  /** Environments to look at (default: all of the spec). */
  readonly envs?: readonly string[] | undefined
  readonly components?: readonly string[] | undefined
  /** Whose history: default HEAD. */
  readonly ref?: string | undefined
}

export interface HistoryResult {
  ref: string
  environments: string[]
  /** Newest first. */
  changes: PinChange[]
  /** Commits whose pin files could not be read (broken YAML at the time): skipped, named here. */
  warnings: string[]
}

/**
 * Pins as git holds them: for one repo, read an environment's pins at any revision through the pin seam, with the
 * spec of that revision (so a component since removed still has its name).
 */
export class PinArchive {
  private readonly reader: RevisionReader
  private readonly specs = new Map<string, Promise<RepoSpec>>()
  // Most commits change one environment: the others' files, and the spec, are the same text as the commit before.
  // Parsing is what costs here, so parse each distinct text once.
  private readonly specByText = new Map<string, RepoSpec>()
  private readonly pinsByText = new Map<string, ComponentPin[]>()

  constructor(
    readonly dir: string,
    readonly spec: RepoSpec,
    readonly store: PinStore,
    private readonly prefix: string,
  ) {
    this.reader = new RevisionReader(dir)
  }

  static async open(dir: string, spec: RepoSpec): Promise<PinArchive> {
    const { openRepo } = await import('../git/index.js')
    const top = await openRepo(dir).topLevel()
    if (top === undefined) {
      throw new UsageError(`${dir} is not in a git repository: pin history comes from git`, {
        code: 'not-a-git-repo',
        hint: 'Run it in a clone of the GitOps repository.',
      })
    }
    const { realpath } = await import('node:fs/promises')
    const { relative } = await import('node:path')
    const prefix = relative(await realpath(top), await realpath(dir))
      .split('\\')
      .join('/')
    return new PinArchive(dir, spec, pinStoreFor(spec), prefix === '' ? '' : `${prefix}/`)
  }

  files(env: string): string[] {
    return this.store.files(this.spec, env)
  }

  /** The spec used to name pins at `rev`: today's components plus any that only that revision's spec had. */
  private specAt(rev: string): Promise<RepoSpec> {
    let pending = this.specs.get(rev)
    if (!pending) {
      pending = this.reader.read(rev, `${this.prefix}${SPEC_FILE}`).then((text) => {
        if (text === undefined) return this.spec
        let spec = this.specByText.get(text)
        if (!spec) {
          try {
            const then = parseSpec(text).spec
            const known = new Set(this.spec.components.map((c) => c.image))
            spec = {
              ...this.spec,
              components: [...this.spec.components, ...then.components.filter((c) => !known.has(c.image))],
            }
          } catch {
            spec = this.spec
          }
          this.specByText.set(text, spec)
        }
        return spec
      })
      this.specs.set(rev, pending)
    }
    return pending
  }

  /** The environment's pins at `rev`; [] when its files did not exist yet. */
  async pinsAt(rev: string | null, env: string): Promise<ComponentPin[]> {
    if (rev === null) return []
    const files = this.files(env)
    const texts = new Map<string, string | undefined>()
    await Promise.all(files.map(async (file) => texts.set(file, await this.reader.read(rev, `${this.prefix}${file}`))))
    const spec = await this.specAt(rev)
    const specKey = spec === this.spec ? '' : JSON.stringify(spec.components)
    const key = JSON.stringify([env, specKey, files.map((file) => texts.get(file) ?? null)])
    let pins = this.pinsByText.get(key)
    if (!pins) {
      pins = this.store.read(spec, env, (path) => texts.get(path))
      this.pinsByText.set(key, pins)
    }
    return pins
  }

  close(): void {
    this.reader.close()
  }
}

/** Every pin change of the chosen environments and components, newest first, from git alone. */
export async function pinHistory(
  archive: PinArchive,
  options: Omit<HistoryOptions, 'dir'> = {},
): Promise<HistoryResult> {
  const envs = [...(options.envs?.length ? options.envs : archive.spec.environments.map((e) => e.name))]
  for (const env of envs) findEnvironment(archive.spec, env)
  const components = options.components?.length ? new Set(options.components) : undefined
  if (components) {
    assertKnownComponents(archive.spec, components)
  }
  const ref = options.ref ?? 'HEAD'
  const filesByEnv = new Map(envs.map((env) => [env, archive.files(env)]))
  const result: HistoryResult = { ref, environments: envs, changes: [], warnings: [] }
  let commits: Awaited<ReturnType<typeof commitsTouching>>
  try {
    commits = await commitsTouching(archive.dir, ref, [...new Set([...filesByEnv.values()].flat())])
  } catch (error) {
    if (error instanceof GitFailed && /does not have any commits|unknown revision|bad revision/i.test(error.detail)) {
      if (ref === 'HEAD') return result
      throw new UserError(`${ref} does not name a commit in ${archive.dir}`, { code: 'unknown-ref' })
    }
    throw error
  }
  // Reads overlap through the one cat-file process; results keep git's newest-first order.
  const perCommit = await Promise.all(
    commits.map(async (commit) => {
      const changes: PinChange[] = []
      for (const env of envs) {
        try {
          const [before, after] = await Promise.all([
            archive.pinsAt(commit.parent, env),
            archive.pinsAt(commit.commit, env),
          ])
          changes.push(...pinChangesOf(env, { ...commit, before, after }, components))
        } catch (error) {
          if (!(error instanceof UserError)) throw error
          result.warnings.push(`${commit.commit.slice(0, 12)} (${env}): skipped, ${error.message}`)
        }
      }
      return changes
    }),
  )
  result.changes = perCommit.flat()
  return result
}

export async function history(options: HistoryOptions): Promise<HistoryResult> {
  const dir = resolve(options.dir)
  const spec = await loadRepoSpec(dir)
  if (options.ref !== undefined) await resolveCommit(dir, options.ref, '--ref')
  const archive = await PinArchive.open(dir, spec)
  try {
    return await pinHistory(archive, options)
  } finally {
    archive.close()
  }
}
