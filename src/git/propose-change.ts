import type { Delivery, RepoChange } from './deliver.js'

/**
 * Options and wording shared by the commands that propose a change on a branch (promote, rollback, freeze/unfreeze).
 * How the change reaches git and GitHub is deliver()'s job (deliver.ts); this file only maps flags to it and
 * words its result.
 */

/** The options every command that proposes a change takes, as its service sees them. */
export interface ProposeOptions {
  /** Commit on this new branch (each command has its own default). */
  readonly branch?: string | undefined
  readonly push?: boolean
  readonly remote?: string
  /** OWNER/REPO: open (or update) a pull request there. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  readonly dryRun?: boolean
}

/** Where a change goes once committed, as the user asked (the branch is each command's own default). */
export function deliveryOf(
  options: ProposeOptions,
): Pick<RepoChange, 'push' | 'remote' | 'github' | 'githubApiUrl' | 'dryRun'> {
  return {
    push: options.push,
    remote: options.remote,
    github: options.github,
    githubApiUrl: options.githubApiUrl,
    dryRun: options.dryRun,
  }
}

/** What those commands report about git: committed, or planned under --dry-run with its diff. */
export type ProposedChange = Delivery

/** "committed <sha> on branch <b> (pushed)": the line every proposing command ends its summary with. */
export function describeCommit(result: Delivery): string {
  const lines = [
    `committed ${result.commit?.slice(0, 12)} on branch ${result.branch}${result.pushed ? ' (pushed)' : ''}`,
  ]
  if (result.pushError) lines.push(`not pushed: ${result.pushError}`)
  return lines.join('\n')
}

export function describePullRequest(result: Delivery): string | undefined {
  return result.pullRequest ? `pull request: ${result.pullRequest.url}` : undefined
}

/** The end of promote's and rollback's summary: the diff under --dry-run, else the commit; then the pull request. */
export function describeProposedChange(result: Delivery): string {
  const lines = [
    result.dryRun
      ? `\n${result.diff ?? ''}(dry run: nothing written; would commit on ${result.branch})`
      : describeCommit(result),
  ]
  const pullRequest = describePullRequest(result)
  if (pullRequest) lines.push(pullRequest)
  return lines.join('\n')
}

/** Exit 1 when the change is committed but did not get where it was sent. */
export function deliveryExitCode(result: Delivery): 0 | 1 {
  return result.pushError ? 1 : 0
}
