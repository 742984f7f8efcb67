import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { UsageError } from '../src/cli/errors.js'
import {
  FORMATS,
  formatGithub,
  formatSarif,
  formatText,
  RULE_IDS,
  type RuleId,
  type ValidateReport,
  validateRepository,
} from '../src/validate/index.js'

function ruleList(values: string[] | undefined, flag: string): RuleId[] | undefined {
  if (!values?.length) return undefined
  const ids = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
  const unknown = ids.filter((id) => !(RULE_IDS as readonly string[]).includes(id))
  if (unknown.length > 0) {
    throw new UsageError(`${flag}: unknown rule ${unknown.map((u) => `"${u}"`).join(', ')}`, {
      hint: `Rules are: ${RULE_IDS.join(', ')}`,
    })
  }
  return ids as RuleId[]
}

export default class Validate extends BaseCommand {
  static override summary = 'Check a GitOps repo: layout, kustomize, image policy, schemas and Renovate config'
  static override description = `Checks the repository in DIR (default: the current directory) the way CI
should before Argo CD syncs it:
  - konflux-gitops.yaml and the layout it describes, stray overlays
  - kustomize resources/components paths and cycles
  - image pins on every shape (kustomize images:, Helm values, Dependabot image
    patches): configured tag, digest pinning, allowed registries
  - Kubernetes and Argo CD schemas, YAML syntax, duplicate keys
  - the Renovate config: Renovate's validator in-process plus its JSON schema
Each finding names a rule, the file and line, and a one-line fix.

--build also runs kustomize for every overlay (kustomize or kubectl on PATH).
--against-registry asks the registry (anonymous, or credentials from
DOCKER_CONFIG / REGISTRY_AUTH_FILE) whether each pinned tag@digest is still
what the tag points to. With --verify-key FILE (repeatable) or verify.keys in
konflux-gitops.yaml it also checks that every pinned digest carries a cosign
signature by one of the keys (image-unsigned, at the pin's line); keyless
signatures are not verified.

Formats: text (grouped by file; colours only on a terminal), json, github
(annotations on the pull request), sarif (2.1.0, for code scanning). --json
prints the same document as --format json.

${EXIT_CODES_HELP}
  (1 here means a finding at or above --fail-on.)`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> ./gitops --format github',
    '<%= config.bin %> <%= command.id %> --format sarif > validate.sarif',
    '<%= config.bin %> <%= command.id %> --fail-on warning --skip-rule stray-overlay',
    '<%= config.bin %> <%= command.id %> --rule renovate-config-invalid --rule renovate-digest-pinning',
    '<%= config.bin %> <%= command.id %> --build',
    '<%= config.bin %> <%= command.id %> --against-registry --fail-on warning',
    '<%= config.bin %> <%= command.id %> --against-registry --verify-key cosign.pub',
  ]
  static override args = {
    dir: Args.string({ description: 'GitOps repository to check', default: '.' }),
  }
  static override flags = {
    format: Flags.string({ description: 'output format', options: [...FORMATS], default: 'text' }),
    'fail-on': Flags.string({
      description: 'lowest severity that makes the exit code 1',
      options: ['error', 'warning'],
      default: 'error',
    }),
    rule: Flags.string({ description: 'run only this rule (repeatable or comma-separated)', multiple: true }),
    'skip-rule': Flags.string({ description: 'skip this rule (repeatable or comma-separated)', multiple: true }),
    build: Flags.boolean({ description: 'also run kustomize build for every environment overlay', default: false }),
    'against-registry': Flags.boolean({
      description: 'also ask the registry whether each pinned digest is still what its tag points to',
      default: false,
    }),
    'verify-key': Flags.string({
      description: 'with --against-registry: public key (PEM) every pinned digest must be signed by (repeatable)',
      multiple: true,
      dependsOn: ['against-registry'],
    }),
  }

  async run(): Promise<ValidateReport> {
    const { args, flags } = await this.parse(Validate)
    const rules = ruleList(flags.rule, '--rule')
    const skipRules = ruleList(flags['skip-rule'], '--skip-rule')
    const report = await validateRepository(args.dir, {
      ...(rules ? { rules } : {}),
      ...(skipRules ? { skipRules } : {}),
      failOn: flags['fail-on'] as 'error' | 'warning',
      build: flags.build,
      againstRegistry: flags['against-registry'],
      ...(flags['verify-key'] ? { verifyKeys: flags['verify-key'] } : {}),
    })
    if (!this.jsonEnabled()) {
      switch (flags.format) {
        case 'json':
          this.log(JSON.stringify(report, null, 2))
          break
        case 'github':
          this.log(formatGithub(report))
          break
        case 'sarif':
          this.log(JSON.stringify(formatSarif(report, this.config.version), null, 2))
          break
        default:
          this.log(formatText(report, { colour: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }))
      }
    }
    if (!report.ok) this.exitWith(1)
    return report
  }
}
