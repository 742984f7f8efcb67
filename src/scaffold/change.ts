import type { Document } from 'yaml'
import { type Delivery, deliver, type PushAuth } from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { renovateConfigForRepo } from '../presets/index.js'
import { type RepoSpec, SPEC_FILE } from '../spec/index.js'
import { readFiles } from './files.js'
import { LEDGER_FILE, parseLedger } from './ledger.js'
import { planFiles } from './plan.js'
import { type FileChange, reconcile } from './reconcile.js'
import { flavourPlanner } from './shape.js'

/**
 * The scaffold side of the repository-change pipeline: the spec a command wants → the files it implies (plan) →
 * what to do with each given the user's edits (reconcile) → deliver() writes, commits and pushes.
 */

export interface RepoChangeOptions {
  /** The GitOps repo directory (created by init when missing). */
  readonly dir: string
  /** Print the diff, write nothing. */
  readonly dryRun?: boolean
  /** Replace files the user edited; let init adopt a directory that is not a konflux-gitops repo. */
  readonly force?: boolean
  /** Set `origin` to this URL. */
  readonly gitRemote?: string | undefined
  /** Push the branch to `origin` after committing. */
  readonly push?: boolean
  /** Progress for humans (stderr). */
  readonly progress?: (message: string) => void
}

export interface ScaffoldResult extends Delivery {
  directory: string
  created: string[]
  updated: string[]
  deleted: string[]
  unchanged: string[]
  conflicts: { path: string; reason: string }[]
  /** Things to do by hand, such as setting repoURL. */
  notes: string[]
}

export interface SpecChange {
  readonly spec: RepoSpec
  /** env → (component → digest) to pin now; environments not listed keep their pins. */
  readonly envPins?: ReadonlyMap<string, ReadonlyMap<string, string>>
  readonly message: string
  /** Notes for the result (a forced gate, say). */
  readonly notes?: readonly string[]
}

export interface RepoState {
  readonly dir: string
  readonly current: { spec: RepoSpec; document: Document } | undefined
}

export async function applySpecChange(
  options: RepoChangeOptions & { pushAuth?: PushAuth | undefined; command: string },
  state: RepoState,
  change: SpecChange,
): Promise<ScaffoldResult> {
  const { dir } = state
  const { spec, envPins, message } = change
  const ledgerText = (await readFiles(dir, [LEDGER_FILE])).get(LEDGER_FILE)
  const ledger = parseLedger(ledgerText)
  const store = pinStoreFor(spec)
  const mergedPaths = [
    ...flavourPlanner(spec).mergedPaths(spec),
    ...spec.environments.flatMap((e) => store.files(spec, e.name)),
  ]
  const files = await readFiles(dir, [...mergedPaths, ...Object.keys(ledger.files)])
  if (ledgerText !== undefined) files.set(LEDGER_FILE, ledgerText)
  // Images whose pins this tool wrote and that no component uses now (an image changed in the spec by hand).
  const images = new Set(spec.components.map((c) => c.image))
  const staleImages = [...(ledger.images ?? []), ...(state.current?.spec.components ?? []).map((c) => c.image)].filter(
    (image) => !images.has(image),
  )
  const desired = planFiles({
    spec,
    previous: state.current?.spec,
    removedImages: [...new Set(staleImages)],
    specDocument: state.current?.document,
    readText: (path) => files.get(path),
    ...(envPins ? { envPins } : {}),
    renovateConfig: `${JSON.stringify(renovateConfigForRepo(spec), null, 2)}\n`,
  })
  for (const [path, text] of await readFiles(
    dir,
    desired.map((file) => file.path).filter((path) => !files.has(path)),
  )) {
    files.set(path, text)
  }
  const { changes } = reconcile(desired, (path) => files.get(path), ledger, {
    force: options.force ?? false,
    images: [...images],
  })

  const notes: string[] = [...(change.notes ?? [])]
  if (spec.argocd !== 'none' && spec.repoURL === undefined) {
    notes.push(
      `argocd/: Argo CD needs this repo's URL; set repoURL in ${SPEC_FILE} (or pass --git-remote URL) and run init again`,
    )
  }
  if (spec.updater === 'dependabot' && spec.repoURL !== undefined && !/github/i.test(spec.repoURL)) {
    notes.push(
      `.github/dependabot.yml: Dependabot runs only on GitHub, and ${spec.repoURL} does not look like a GitHub repository; use --updater renovate elsewhere`,
    )
  }

  // What deliver() owns: every file this run writes or deletes, plus the generated files already as wanted (an
  // interrupted run may have left them uncommitted) and ledger files already gone. A file the user edited and
  // reconcile keeps is not listed: deliver never touches or commits it.
  const owned = new Map<string, string | null>()
  for (const c of changes) {
    if (c.action === 'create' || c.action === 'update') owned.set(c.path, c.after!)
    else if (c.action === 'delete') owned.set(c.path, null)
  }
  for (const file of desired)
    if (!owned.has(file.path) && files.get(file.path) === file.content) owned.set(file.path, file.content)
  for (const path of Object.keys(ledger.files)) {
    if (!owned.has(path) && !desired.some((file) => file.path === path) && files.get(path) === undefined) {
      owned.set(path, null)
    }
  }
  const delivered = await deliver({
    dir,
    files: owned,
    message,
    createRepo: spec.branch,
    dryRun: options.dryRun,
    remoteUrl: options.gitRemote,
    push: options.push,
    pushAuth: options.pushAuth,
    writeLast: [LEDGER_FILE],
    replaceEdited: options.force ?? false,
    command: options.command,
    onProgress: options.progress,
  })
  return { ...summarise(dir, changes, notes), ...delivered }
}

function summarise(dir: string, changes: readonly FileChange[], notes: string[]): Omit<ScaffoldResult, keyof Delivery> {
  const paths = (action: FileChange['action']) =>
    changes.filter((change) => change.action === action).map((change) => change.path)
  return {
    directory: dir,
    created: paths('create'),
    updated: paths('update'),
    deleted: paths('delete'),
    unchanged: paths('unchanged'),
    conflicts: changes
      .filter((change) => change.action === 'conflict')
      .map((change) => ({ path: change.path, reason: change.reason ?? 'edited by the user' })),
    notes,
  }
}
