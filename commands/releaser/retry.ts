import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { UsageError } from '../../src/cli/errors.js'
import { journalFlags, journalLocation } from '../../src/cli/flags.js'
import { type RetryResult, retryReleases } from '../../src/releaser/index.js'

export interface ReleaserRetryResult {
  releases: Array<{ id: string; retried: number; snapshot: string; state: string }>
}

export default class ReleaserRetry extends BaseCommand {
  static override summary = 'Queue a failed release again'
  static override description =
    `Puts the failed retags of release ID (the id the webhook answered with) back in the releaser's queue with a
fresh attempt budget. A running daemon on the same journal (--state or --database-url) picks them up within a second; otherwise the next start
does. --all-failed retries every failed release. The same is available over HTTP: POST /v1/releases/ID/retry, signed.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> 0b9c6f0e-6d7e-4a53-9d55-0c1f3e2f0a11 --state ./state',
    '<%= config.bin %> <%= command.id %> --all-failed --state ./state --json',
  ]
  static override strict = false
  static override args = {
    id: Args.string({ description: 'release id (repeatable)' }),
  }
  static override flags = {
    ...journalFlags("the releaser daemon's --state directory (SQLite journal)"),
    'all-failed': Flags.boolean({ description: 'retry every release in the failed state' }),
  }

  async run(): Promise<ReleaserRetryResult> {
    const { argv, flags } = await this.parse(ReleaserRetry)
    const ids = argv as string[]
    if (ids.length === 0 && !flags['all-failed']) throw new UsageError('name a release ID or pass --all-failed')
    if (ids.length > 0 && flags['all-failed']) throw new UsageError('pass release IDs or --all-failed, not both')
    const results: RetryResult[] = await retryReleases(journalLocation(flags), flags['all-failed'] ? 'all-failed' : ids)
    for (const result of results) {
      this.log(
        result.retried > 0
          ? `${result.id}: ${result.retried} retag(s)/notification(s) queued again (${result.release.snapshot})`
          : `${result.id}: nothing failed (state ${result.release.state})`,
      )
    }
    if (results.length === 0) this.log('no failed releases')
    return {
      releases: results.map((r) => ({
        id: r.id,
        retried: r.retried,
        snapshot: r.release.snapshot,
        state: r.release.state,
      })),
    }
  }
}
