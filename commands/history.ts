import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { type HistoryResult, history, type PinChange } from '../src/history/index.js'
import { shortDigest } from '../src/image-ref/index.js'

export default class History extends BaseCommand {
  static override summary = 'List every pin change per environment and component, newest first, from git alone'
  static override description =
    `Walks the repository's git history (the first-parent line of --ref, default HEAD) for commits that changed an
environment's pins, and lists each change: date, environment, component, old and new digest, commit, author, and
where it came from when the commit says so (a promotion, a rollback, a Konflux Snapshot, or the updater bot).
This answers "what ran in prod last Tuesday" without a cluster.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --env prod --component api',
    '<%= config.bin %> <%= command.id %> --env prod --json',
  ]
  static override args = {
    dir: Args.string({ description: 'the GitOps repository (default: current folder)', default: '.' }),
  }
  static override flags = {
    env: Flags.string({
      char: 'e',
      description: 'environment (repeatable; default: all)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    component: Flags.string({
      char: 'c',
      description: 'component (repeatable; default: all)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ref: Flags.string({ description: 'branch, tag or commit whose history to read', default: 'HEAD' }),
  }

  async run(): Promise<HistoryResult> {
    const { args, flags } = await this.parse(History)
    const result = await history({ dir: args.dir, envs: flags.env, components: flags.component, ref: flags.ref })
    for (const warning of result.warnings) this.progress(`warning: ${warning}`)
    if (result.changes.length === 0) {
      this.log(`no pin changes for ${result.environments.join(', ') || 'any environment'} in ${result.ref}`)
      return result
    }
    const rows = result.changes.map((change) => [
      change.date.replace('T', ' ').replace(/(:\d\d)([+-]\d\d:\d\d|Z)$/, '$1'),
      change.env,
      change.component,
      change.change === 'changed'
        ? `${shortDigest(change.previous)} -> ${shortDigest(change.digest)}`
        : `${change.change} (${shortDigest(change.change === 'added' ? change.digest : change.previous)})`,
      change.commit.slice(0, 12),
      change.author.name,
      describeSource(change),
    ])
    const header = ['DATE', 'ENV', 'COMPONENT', 'DIGEST', 'COMMIT', 'AUTHOR', 'SOURCE']
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
    const line = (cells: string[]) =>
      cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()
    this.log([line(header), ...rows.map(line)].join('\n'))
    return result
  }
}

function describeSource(change: PinChange): string {
  const source = change.source
  if (!source) return change.subject
  switch (source.kind) {
    case 'promotion':
      return `promoted from ${source.from}`
    case 'rollback':
      return `rollback${source.restoredFrom ? ` to ${source.restoredFrom.slice(0, 12)}` : ''}`
    case 'snapshot':
      return `snapshot ${source.name}`
    case 'updater':
      return `${source.name}: ${change.subject}`
  }
}
