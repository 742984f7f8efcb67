import type { ScaffoldResult } from './service.js'

/** The human summary: one line per changed file, then conflicts, commit and push. */
export function describeResult(result: ScaffoldResult): string {
  const lines: string[] = []
  if (result.dryRun) {
    lines.push(result.diff ? result.diff.trimEnd() : 'No changes.')
    lines.push('')
    lines.push(
      `dry run: would create ${result.created.length}, update ${result.updated.length}, delete ${result.deleted.length} file(s); nothing written`,
    )
  } else {
    for (const path of result.created) lines.push(`created   ${path}`)
    for (const path of result.updated) lines.push(`updated   ${path}`)
    for (const path of result.deleted) lines.push(`deleted   ${path}`)
    if (result.created.length + result.updated.length + result.deleted.length === 0) {
      lines.push(`${result.directory}: up to date (${result.unchanged.length} files unchanged)`)
    }
  }
  for (const conflict of result.conflicts) lines.push(`conflict  ${conflict.path}: ${conflict.reason}`)
  if (result.conflicts.length > 0) {
    lines.push(
      'Conflicting files were kept as they are; run again with --force to replace them with the generated version.',
    )
  }
  if (result.commit) lines.push(`committed ${result.commit.slice(0, 12)}`)
  if (result.pushed) lines.push('pushed to origin')
  if (result.pushError) lines.push(`not pushed: ${result.pushError}`)
  for (const note of result.notes) lines.push(`note: ${note}`)
  return lines.join('\n')
}

/** Exit 1 when something needs the user: a kept conflict or a failed push. */
export function resultExitCode(result: ScaffoldResult): 0 | 1 {
  return result.conflicts.length > 0 || result.pushError ? 1 : 0
}
