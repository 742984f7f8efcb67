import { describeCommit, describePullRequest } from '../git/index.js'
import type { FreezeResult } from './freeze.js'

/** The human summary freeze and unfreeze print. */
export function describeFreeze(result: FreezeResult): string {
  const verb = result.action === 'freeze' ? 'frozen' : 'unfrozen'
  if (result.files.length === 0) {
    return result.action === 'freeze'
      ? `${result.env} is already frozen (by ${result.frozen?.by} at ${result.frozen?.at}): nothing to change`
      : `${result.env} is not frozen: nothing to change`
  }
  const lines: string[] = []
  if (result.dryRun)
    lines.push(result.diff ?? '', `(dry run: nothing written; would change ${result.files.join(', ')})`)
  else {
    lines.push(
      `${result.env} ${verb}${result.frozen?.reason ? `: ${result.frozen.reason}` : ''} (${result.files.join(', ')})`,
      describeCommit(result),
    )
  }
  const pullRequest = describePullRequest(result)
  if (pullRequest) lines.push(pullRequest)
  return lines.join('\n')
}
