import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { formatStatusTable, repoStatus, type StatusReport } from '../src/status/index.js'

export default class Status extends BaseCommand {
  static override summary = 'Show what each environment runs: pinned tag and digest per component'
  static override description =
    `A table environment × component with the pinned tag and short digest, read from the repo alone, and
frozen environments with their reason. With --against-registry it also asks the registry where each tag points now
(credentials from the docker config: DOCKER_CONFIG, REGISTRY_AUTH_FILE or ~/.docker/config.json) and marks pins whose
tag has moved since: the digest Renovate will propose next.

Exit code 1 with --against-registry means a tag has moved or a lookup failed; without it, status is 0 whenever the
repo could be read.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --against-registry',
    '<%= config.bin %> <%= command.id %> ../shop-gitops --json',
  ]
  static override args = {
    dir: Args.string({ description: 'the GitOps repository (default: current folder)', default: '.' }),
  }
  static override flags = {
    'against-registry': Flags.boolean({ description: 'also check where each tag points in the registry now' }),
  }

  async run(): Promise<StatusReport> {
    const { args, flags } = await this.parse(Status)
    const report = await repoStatus({ dir: args.dir, againstRegistry: flags['against-registry'] })
    this.log(formatStatusTable(report))
    if (report.checkedRegistry && (report.moved > 0 || report.errors > 0)) {
      this.progress(
        `\n${report.moved} pin(s) behind their tag${report.errors ? `, ${report.errors} lookup(s) failed` : ''}`,
      )
      this.exitWith(1)
    }
    return report
  }
}
