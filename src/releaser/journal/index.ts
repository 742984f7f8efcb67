import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../../cli/errors.js'
import { JOURNAL_FILE, openSqlite } from './sqlite.js'
import { StepJournal, type StoreOptions } from './store.js'
import type { Journal } from './types.js'

export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js'
export { redactDatabaseUrl } from './postgres.js'
export { JOURNAL_FILE } from './sqlite.js'
export { DEFAULT_CLAIM_TTL_MS, type StoreOptions } from './store.js'
export * from './types.js'

/** Where the journal lives: an SQLite file under a state directory, or a PostgreSQL database. */
export type JournalLocation = { readonly stateDir: string } | { readonly databaseUrl: string }

export interface OpenOptions extends StoreOptions {
  /** false: the journal must already exist (history, retry): never create an empty one by mistake. */
  readonly create?: boolean
}

/** Open the journal, applying the schema migrations this binary has (and refusing a newer schema). */
export async function openJournal(location: JournalLocation, options: OpenOptions = {}): Promise<Journal> {
  if ('databaseUrl' in location) {
    const { openPostgres } = await import('./postgres.js')
    return new StepJournal(await openPostgres(location.databaseUrl), options)
  }
  if (options.create === false && !existsSync(join(location.stateDir, JOURNAL_FILE))) {
    throw new UserError(`no releaser journal in ${location.stateDir} (${JOURNAL_FILE} is missing)`, {
      exit: 2,
      code: 'no-journal',
      hint: 'Pass the same --state DIR the releaser daemon runs with.',
    })
  }
  return new StepJournal(openSqlite(location.stateDir, options), options)
}
