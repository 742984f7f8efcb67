import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { journalFlags, journalLocation } from '../../src/cli/flags.js'
import { type HistoryEntry, releaseHistory } from '../../src/releaser/index.js'

export interface ReleaserHistoryResult {
  entries: HistoryEntry[]
}

export default class ReleaserHistory extends BaseCommand {
  static override summary = 'Show what the releaser moved: tag, digest, when, from which Snapshot'
  static override description =
    `Reads the releaser's journal (the --state directory or --database-url of a running or stopped daemon) and prints the audit
trail, newest first: each tag the releaser pointed at a digest (moved), or found already there (already), with the
Snapshot and release id that did it and the digest the tag pointed at before.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --state ./state',
    '<%= config.bin %> <%= command.id %> --state ./state --component api --tag released --json',
  ]
  static override flags = {
    ...journalFlags("the releaser daemon's --state directory (SQLite journal)"),
    component: Flags.string({ description: 'only this component' }),
    tag: Flags.string({ description: 'only this tag (e.g. released)' }),
    limit: Flags.integer({ description: 'at most this many entries', min: 1 }),
  }

  async run(): Promise<ReleaserHistoryResult> {
    const { flags } = await this.parse(ReleaserHistory)
    const { printable } = await import('../../src/registry/index.js')
    const entries = await releaseHistory(journalLocation(flags), {
      component: flags.component,
      tag: flags.tag,
      limit: flags.limit,
    })
    if (entries.length === 0) this.log('no tags moved yet')
    for (const entry of entries) {
      const from = entry.fromDigest ? ` (was ${entry.fromDigest.slice(0, 19)})` : ''
      // Names come from Snapshots (requests): never raw control characters on a terminal.
      this.log(
        printable(
          `${entry.at}  ${entry.action.padEnd(7)}  ${entry.repository}:${entry.tag} -> ${entry.toDigest.slice(0, 19)}${from}  ${entry.component} from ${entry.snapshot}`,
        ),
      )
    }
    return { entries }
  }
}
