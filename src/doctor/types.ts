import type { RepoSpec } from '../spec/index.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

/** The five links of the loop, in the order a release travels through them. */
export const LINKS = ['repo', 'registry', 'git', 'argocd', 'updater'] as const
export type Link = (typeof LINKS)[number]

/** One line of the checklist. */
export interface CheckLine {
  /** Stable id for scripts, e.g. `registry.tag.api` or `git.remote-reachable`. */
  id: string
  link: Link
  status: CheckStatus
  /** What was checked and what was found, one line. */
  message: string
  /** What to do when not ok; null when ok. */
  fix: string | null
}

export interface CheckResult extends CheckLine {
  durationMs: number
}

/** One update the real Renovate lookup would propose (`doctor --renovate`). */
export interface RenovateProposal {
  packageFile: string
  depName: string
  updateType: string
  currentValue: string | null
  currentDigest: string | null
  newDigest: string | null
  newValue: string | null
}

/** What a check needs: the repository on disk and its spec (when it could be read). */
export interface DoctorContext {
  dir: string
  spec: RepoSpec | undefined
  remote: string
  /** Files git sees in the work tree (tracked and untracked, not ignored), repo-relative with forward slashes. */
  files: readonly string[]
  readText(path: string): string | undefined
}

/** A check: one or several lines (one per component or environment), under a timeout. */
export interface Check {
  id: string
  link: Link
  /** Line used when the check times out or throws. */
  title: string
  timeoutMs?: number
  run(ctx: DoctorContext): Promise<CheckLine[]>
}
