import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { automergeEnvironments, presetValueFlags } from '../../src/cli/flags.js'
import { type BuildPresetsResult, buildPresets } from '../../src/presets/index.js'
import { describeIssue } from '../../src/renovate/index.js'

export default class PresetsBuild extends BaseCommand {
  static override summary = 'Write the Renovate presets for an organisation, validated by Renovate'
  static override description =
    `Writes default.json (what every konflux-gitops repo extends) and the pieces it is made of
(digest-pinning, group-by-environment, automerge-dev) into --out, filled with the organisation's values:
the registry prefix of its Konflux images, the tag Konflux moves after tests pass, and the environments whose
digest updates merge on their own. Production (prod, production) never auto-merges.

Every file is checked with Renovate's own validator (and the schema it ships) before anything is written; on
any error nothing is written. Files are replaced atomically; unchanged files are left alone.

Publish the result with \`presets publish\`, or commit the directory to your org's renovate-config repository.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --out renovate-config --registry-prefix quay.io/redhat-user-workloads/acme-tenant',
    '<%= config.bin %> <%= command.id %> --out renovate-config --automerge dev,staging --tag released',
    '<%= config.bin %> <%= command.id %> --out renovate-config --automerge none --dry-run --json',
  ]
  static override flags = {
    out: Flags.directory({
      description: 'directory to write the preset files into (created if missing)',
      required: true,
    }),
    'registry-prefix': Flags.string({
      description: 'only images under this prefix are pinned and grouped, e.g. quay.io/acme (default: every image)',
    }),
    ...presetValueFlags(),
    'dry-run': Flags.boolean({ description: 'validate and report, write nothing' }),
  }

  async run(): Promise<BuildPresetsResult> {
    const { flags } = await this.parse(PresetsBuild)
    const result = await buildPresets({
      out: flags.out,
      registryPrefix: flags['registry-prefix'],
      tag: flags.tag,
      automerge: automergeEnvironments(flags.automerge),
      dryRun: flags['dry-run'],
    })
    for (const warning of result.warnings) {
      process.stderr.write(`Warning: ${describeIssue(warning)}\n`)
    }
    const verb = result.dryRun ? 'would be ' : ''
    for (const file of result.files) {
      this.log(`${file.status === 'unchanged' ? 'unchanged' : `${verb}${file.status}`.padEnd(9)}  ${file.path}`)
    }
    this.log(
      `\nValidated by Renovate. Images: ${result.parameters.packagePatterns.join(', ')}; tag: ${result.parameters.tag}; ` +
        `auto-merge: ${result.parameters.automergeEnvironments.join(', ') || 'none'}.`,
    )
    return result
  }
}
