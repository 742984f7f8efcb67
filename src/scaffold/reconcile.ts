import type { ReadText } from '../pins/index.js'
import { contentHash, LEDGER_FILE, type Ledger, MERGED, renderLedger } from './ledger.js'
import type { DesiredFile } from './plan.js'

export type FileAction = 'create' | 'update' | 'delete' | 'unchanged' | 'conflict'

export interface FileChange {
  readonly path: string
  readonly action: FileAction
  /** Text on disk now (undefined when absent). */
  readonly before: string | undefined
  /** Text to write (undefined for a deletion, and for a conflict: the user's file is kept). */
  readonly after: string | undefined
  /** Why a conflict is one, for the report. */
  readonly reason?: string
}

export interface ReconcileOptions {
  /** Replace files the user edited with the generated version. */
  readonly force: boolean
  /** Image repositories the plan pins, recorded in the ledger. */
  readonly images?: readonly string[] | undefined
}

/**
 * Three-way decision per file: what we last wrote (ledger), what is there now, what we want now.
 * A file the user edited is only touched when we would change it too, and then only with --force.
 */
export function reconcile(
  desired: readonly DesiredFile[],
  readText: ReadText,
  ledger: Ledger,
  options: ReconcileOptions,
): { changes: FileChange[]; ledger: Ledger } {
  const changes: FileChange[] = []
  const files: Record<string, string> = {}
  const wanted = new Set(desired.map((file) => file.path))

  for (const file of desired) {
    const before = readText(file.path)
    const base = ledger.files[file.path]
    const ours = file.merged ? MERGED : contentHash(file.content)
    if (before === file.content) {
      changes.push({ path: file.path, action: 'unchanged', before, after: undefined })
      files[file.path] = ours
    } else if (before === undefined) {
      changes.push({ path: file.path, action: 'create', before, after: file.content })
      files[file.path] = ours
    } else if (file.merged || base === contentHash(before) || options.force) {
      changes.push({ path: file.path, action: 'update', before, after: file.content })
      files[file.path] = ours
    } else if (base === ours) {
      // The user changed a file we would write exactly as last time: their version is the one to keep.
      changes.push({ path: file.path, action: 'unchanged', before, after: undefined })
      files[file.path] = base
    } else {
      changes.push({
        path: file.path,
        action: 'conflict',
        before,
        after: undefined,
        reason:
          base === undefined
            ? 'exists but was not written by konflux-gitops'
            : 'edited since konflux-gitops wrote it, and the spec now changes it',
      })
      if (base !== undefined) files[file.path] = base
    }
  }

  for (const [path, base] of Object.entries(ledger.files)) {
    if (wanted.has(path)) continue
    const before = readText(path)
    if (before === undefined) continue
    if (base === MERGED || base === contentHash(before) || options.force) {
      changes.push({ path, action: 'delete', before, after: undefined })
    } else {
      changes.push({
        path,
        action: 'conflict',
        before,
        after: undefined,
        reason: 'no longer generated, but edited since konflux-gitops wrote it: kept',
      })
      files[path] = base
    }
  }

  const next: Ledger = { version: 1, files, ...(options.images ? { images: options.images } : {}) }
  const ledgerText = renderLedger(next)
  const ledgerBefore = readText(LEDGER_FILE)
  if (ledgerBefore !== ledgerText) {
    changes.push({
      path: LEDGER_FILE,
      action: ledgerBefore === undefined ? 'create' : 'update',
      before: ledgerBefore,
      after: ledgerText,
    })
  }
  return { changes, ledger: next }
}
