import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff'
import type { FileChange } from './reconcile.js'

/** The unified diff `--dry-run` prints: what a real run would change, git-style paths. */
export function unifiedDiff(changes: readonly FileChange[]): string {
  return changes
    .filter((change) => change.action === 'create' || change.action === 'update' || change.action === 'delete')
    .map((change) =>
      createTwoFilesPatch(
        change.action === 'create' ? '/dev/null' : `a/${change.path}`,
        change.action === 'delete' ? '/dev/null' : `b/${change.path}`,
        change.before ?? '',
        change.after ?? '',
        undefined,
        undefined,
        { context: 3, headerOptions: FILE_HEADERS_ONLY },
      ),
    )
    .join('')
}
