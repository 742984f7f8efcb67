import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../cli/errors.js'
import { type HistoryEntry, JOURNAL_FILE, Journal, type ReleaseRecord } from './journal.js'

/** The history and retry commands work on the daemon's journal; refuse to create an empty one by mistake. */
function openExisting(stateDir: string): Journal {
  if (!existsSync(join(stateDir, JOURNAL_FILE))) {
    throw new UserError(`no releaser journal in ${stateDir} (${JOURNAL_FILE} is missing)`, {
      exit: 2,
      code: 'no-journal',
      hint: 'Pass the same --state DIR the releaser daemon runs with.',
    })
  }
  return Journal.open(stateDir, { create: false })
}

export function releaseHistory(
  stateDir: string,
  filter: { component?: string; tag?: string; limit?: number },
): HistoryEntry[] {
  const journal = openExisting(stateDir)
  try {
    return journal.history(filter)
  } finally {
    journal.close()
  }
}

export interface RetryResult {
  readonly id: string
  readonly retried: number
  readonly release: ReleaseRecord
}

/**
 * Put failed retags of the given releases (or of every failed release) back in the queue. A running daemon picks
 * them up at its next poll: the journal is shared through SQLite's WAL, no signal needed.
 */
export function retryReleases(stateDir: string, ids: readonly string[] | 'all-failed'): RetryResult[] {
  const journal = openExisting(stateDir)
  try {
    const targets = ids === 'all-failed' ? journal.failedReleaseIds() : ids
    return targets.map((id) => {
      const retried = journal.retry(id)
      if (retried < 0) {
        throw new UserError(`no release ${id} in ${stateDir}`, {
          code: 'unknown-release',
          hint: 'List releases with `konflux-gitops releaser history --state DIR`, or GET /v1/releases/ID.',
        })
      }
      return { id, retried, release: journal.release(id)! }
    })
  } finally {
    journal.close()
  }
}
