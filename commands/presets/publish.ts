import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { automergeEnvironments, presetValueFlags } from '../../src/cli/flags.js'
import { type PublishPresetsResult, publishPresets } from '../../src/presets/index.js'
import { describeIssue } from '../../src/renovate/index.js'

export default class PresetsPublish extends BaseCommand {
  static override summary = "Propose the Renovate presets to the organisation's renovate-config repository"
  static override description =
    `Validates the presets (built from the flags, or read from --from DIR after \`presets build\`),
then opens a pull request with them in ORG/REPO on GitHub, creating the repository when it does not exist.
Re-running with no change opens nothing; a change updates the same branch and pull request.
Prints the reference GitOps repos put in "extends": github>ORG/REPO (default.json) or github>ORG/REPO:NAME.

The token comes from GITHUB_TOKEN or GH_TOKEN and needs the "repo" scope (classic) or Administration, Contents
and Pull requests write (fine-grained). It never appears in output or errors.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --org acme --registry-prefix quay.io/redhat-user-workloads/acme-tenant',
    '<%= config.bin %> <%= command.id %> --org acme --from renovate-config --dry-run',
    '<%= config.bin %> <%= command.id %> --org acme --github-api-url https://github.example.com/api/v3 --json',
  ]
  static override flags = {
    org: Flags.string({
      description: 'GitHub organisation (or user) that owns the presets repository',
      required: true,
    }),
    repo: Flags.string({ description: 'repository holding the presets', default: 'renovate-config' }),
    branch: Flags.string({ description: 'branch the pull request comes from', default: 'konflux-gitops-presets' }),
    from: Flags.directory({
      description: 'publish the preset files in this directory (from `presets build`)',
      exists: true,
    }),
    'registry-prefix': Flags.string({
      description: 'only images under this prefix are pinned and grouped, e.g. quay.io/acme',
    }),
    ...presetValueFlags(),
    private: Flags.boolean({ description: 'create the repository private (Renovate must still be able to read it)' }),
    'github-api-url': Flags.string({
      description: 'GitHub REST API URL (GitHub Enterprise Server: https://HOST/api/v3)',
      env: 'GITHUB_API_URL',
      default: 'https://api.github.com',
    }),
    'dry-run': Flags.boolean({ description: 'read from GitHub and report what would change; write nothing' }),
  }

  async run(): Promise<PublishPresetsResult> {
    const { flags } = await this.parse(PresetsPublish)
    const result = await publishPresets({
      org: flags.org,
      repo: flags.repo,
      branch: flags.branch,
      from: flags.from,
      registryPrefix: flags['registry-prefix'],
      tag: flags.tag,
      automerge: automergeEnvironments(flags.automerge),
      private: flags.private,
      apiUrl: flags['github-api-url'],
      dryRun: flags['dry-run'],
      onNotice: (message) => process.stderr.write(`${message}\n`),
    })
    for (const warning of result.warnings) {
      process.stderr.write(`Warning: ${describeIssue(warning)}\n`)
    }
    const target = `${flags.org}/${flags.repo}`
    const pr = result.pullRequest
    const prName = pr?.number ? `pull request #${pr.number}${pr.url ? ` (${pr.url})` : ''}` : 'a pull request'
    if (result.repository.created) this.log(`${result.dryRun ? 'Would create' : 'Created'} repository ${target}.`)
    if (!result.changed) {
      this.log(
        pr
          ? `Nothing to publish: ${prName} already proposes these presets.`
          : `Nothing to publish: ${target} already has these presets on ${result.base}.`,
      )
    } else if (pr) {
      const done = { created: 'Opened', updated: 'Updated', unchanged: 'Pushed the new presets to' }[pr.action]
      const todo = { created: 'Would open', updated: 'Would update', unchanged: 'Would push the new presets to' }[
        pr.action
      ]
      this.log(`${result.dryRun ? todo : done} ${prName} in ${target}, branch ${result.branch}.`)
    }
    this.log(`Files, compared with ${result.base ?? 'the new repository'}:`)
    for (const file of result.files) this.log(`  ${file.status.padEnd(9)} ${file.path}`)
    this.log(
      `\nGitOps repos extend "${result.references.default}"${pr && !result.dryRun ? ' once the pull request is merged' : ''}.`,
    )
    this.log(
      `Or compose: ${Object.entries(result.references)
        .filter(([name]) => name !== 'default')
        .map(([, ref]) => ref)
        .join(', ')}`,
    )
    return result
  }
}
