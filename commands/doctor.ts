import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import type { DoctorReport } from '../src/doctor/index.js'

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const

export default class Doctor extends BaseCommand {
  static override summary = "Check every link of the repo's deployment loop against the real services"
  static override description =
    `A read-only checklist, one line per check (ok / warn / fail), with the fix for each check that is not ok. Checks run concurrently, each with a timeout; nothing is written (not the repo, not the remote, not the registry).

- repo: konflux-gitops.yaml and the layout pass the validate rules (summarised).
- registry: each component's release tag exists (its digest shown), read with your docker config credentials or anonymously; each environment's pinned digest still exists (HEAD by digest); which environments are behind the tag.
- git: the remote is set and answers (git ls-remote), the deploy branch exists there, the local branch is level with it.
- argocd: every Application/ApplicationSet repoURL is this repo's remote (ssh and https spellings count as the same repository), targetRevision is the deploy branch, every path exists.
- updater: the config passes Renovate's own validator and schema, and Renovate's manager reads every environment's pin file (presets, includePaths/ignorePaths and packageRules applied by Renovate's own code); for Dependabot, every pin directory is listed. --renovate also runs the real Renovate lookup (dry run) against the registry and lists the digests it would propose.

Registry credentials come from REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json; --renovate hands them to Renovate as host rules through its environment (never on a command line or in a log).

${EXIT_CODES_HELP}
  (doctor exits 1 when any check fails; warnings alone exit 0)`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> ./shop-gitops --renovate',
    '<%= config.bin %> <%= command.id %> --json | jq \'.checks[] | select(.status != "ok")\'',
  ]
  static override args = {
    dir: Args.string({ description: 'the GitOps repository', default: '.' }),
  }
  static override flags = {
    renovate: Flags.boolean({
      description: 'also run the real Renovate lookup (dry run) and list what it would propose',
    }),
    remote: Flags.string({ description: 'git remote Argo CD reads from', default: 'origin' }),
    timeout: Flags.integer({ description: 'seconds each check may take', default: 20, min: 1, max: 600 }),
  }

  async run(): Promise<DoctorReport> {
    const { args, flags } = await this.parse(Doctor)
    const { runDoctor } = await import('../src/doctor/index.js')
    const report = await runDoctor(args.dir, {
      remote: flags.remote,
      timeoutMs: flags.timeout * 1000,
      renovate: flags.renovate,
      onProgress: (message) => this.progress(message),
    })
    const out: string[] = []
    for (const check of report.checks) {
      out.push(`${MARK[check.status]}  ${check.link.padEnd(8)}  ${check.message}`)
      if (check.fix) out.push(`      ${''.padEnd(8)}  fix: ${check.fix}`)
    }
    const { ok, warn, fail } = report.counts
    out.push(`${ok} ok, ${warn} warning(s), ${fail} failed`)
    this.log(out.join('\n'))
    if (!report.ok) this.exitWith(1)
    return report
  }
}
