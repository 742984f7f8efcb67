import { UserError } from '../cli/errors.js'
import {
  type HistoryEntry,
  type Journal,
  type JournalLocation,
  openJournal,
  type ReleaseRecord,
} from './journal/index.js'

/** The history and retry commands work on the daemon's journal; refuse to create an empty one by mistake. */
function openExisting(location: JournalLocation): Promise<Journal> {
  return openJournal(location, { create: false })
}

/** How to name a journal location in a message (never a database password). */
function describe(journal: Journal): string {
  return journal.location
}

export async function releaseHistory(
  location: JournalLocation,
  filter: { component?: string; tag?: string; limit?: number },
): Promise<HistoryEntry[]> {
  const journal = await openExisting(location)
  try {
    return await journal.history(filter)
  } finally {
    await journal.close()
  }
}

export interface RetryResult {
  readonly id: string
  readonly retried: number
  readonly release: ReleaseRecord
}

/**
 * Put failed steps of the given releases (or of every failed release) back in the queue. A running daemon picks
 * them up at its next poll (the journal is shared: SQLite's WAL or the PostgreSQL database), no signal needed.
 */
export async function retryReleases(
  location: JournalLocation,
  ids: readonly string[] | 'all-failed',
): Promise<RetryResult[]> {
  const journal = await openExisting(location)
  try {
    const targets = ids === 'all-failed' ? await journal.failedReleaseIds() : ids
    const results: RetryResult[] = []
    for (const id of targets) {
      const retried = await journal.retry(id)
      if (retried < 0) {
        throw new UserError(`no release ${id} in ${describe(journal)}`, {
          code: 'unknown-release',
          hint: 'List releases with `konflux-gitops releaser history`, or GET /v1/releases/ID.',
        })
      }
      results.push({ id, retried, release: (await journal.release(id))! })
    }
    return results
  } finally {
    await journal.close()
  }
}
