import { type ParseError, parse as parseJsonc } from 'jsonc-parser'
import { frozenEnvironmentOf, frozenFiles } from '../freeze/renovate-rule.js'
import { RENOVATE_CONFIG_FILES } from '../renovate/index.js'
import { DEPENDABOT_CONFIG, dependabotDirectory } from '../scaffold/updaters.js'
import { SPEC_FILE } from '../spec/index.js'
import { type CheckContext, isRecord } from './context.js'
import { locate, parseYaml } from './yaml-docs.js'

/**
 * Frozen environments (konflux-gitops freeze): a notice for each, and an error when the spec and the updater's
 * config disagree, because then either the updater undoes a rollback or an environment nobody froze stays stuck.
 * Added by the freeze work (issue 12) at the end of the checks; reads the rule shape from src/freeze.
 */
export function checkFreeze(ctx: CheckContext): void {
  const spec = ctx.spec
  if (!spec) return
  const specFile = ctx.yaml.get(SPEC_FILE)
  spec.environments.forEach((env, index) => {
    if (!env.frozen) return
    ctx.report(
      'environment-frozen',
      SPEC_FILE,
      locate(specFile, 0, ['environments', index, 'frozen']),
      `environment ${env.name} is frozen by ${env.frozen.by} since ${env.frozen.at}${env.frozen.reason ? `: ${env.frozen.reason}` : ''}; the updater leaves it alone`,
    )
  })
  if (!ctx.enabled('freeze-mismatch')) return
  if (spec.updater === 'dependabot') {
    checkDependabotFreeze(ctx)
    return
  }
  const path = RENOVATE_CONFIG_FILES.find((file) => ctx.tree.files.get(file)?.kind === 'text')
  const entry = path === undefined ? undefined : ctx.tree.files.get(path)
  if (path === undefined || entry?.kind !== 'text') return
  // JSON with comments and trailing commas, as freeze edits it (jsonc-parser); other syntax is the Renovate checks'.
  const errors: ParseError[] = []
  const config: unknown = parseJsonc(entry.text, errors, { allowTrailingComma: true, disallowComments: false })
  if (errors.length > 0) return
  const rules = isRecord(config) && Array.isArray(config.packageRules) ? config.packageRules : []
  const located = parseYaml(path, entry.text)
  const where = (index: number | null) =>
    located.problems.length > 0
      ? null
      : locate(located, 0, index === null ? ['packageRules'] : ['packageRules', index, 'enabled'])
  for (const env of spec.environments) {
    const files = frozenFiles(spec, env.name)
    const disabling = rules.findIndex(
      (rule) =>
        isRecord(rule) &&
        rule.enabled === false &&
        Array.isArray(rule.matchFileNames) &&
        files.every((file) =>
          (rule.matchFileNames as unknown[]).some((m) => m === file || m === `environments/${env.name}/**`),
        ),
    )
    const ours = rules.findIndex((rule) => frozenEnvironmentOf(rule) === env.name)
    if (env.frozen && disabling < 0) {
      ctx.report(
        'freeze-mismatch',
        path,
        where(null),
        `environment ${env.name} is frozen in ${SPEC_FILE}, but ${path} has no packageRules entry with enabled: false for ${files.join(', ')}: Renovate keeps proposing updates`,
      )
    } else if (!env.frozen && ours >= 0) {
      ctx.report(
        'freeze-mismatch',
        path,
        where(ours),
        `${path} freezes environment ${env.name}, but ${SPEC_FILE} does not: Renovate proposes nothing for it`,
      )
    }
  }
}

/** With Dependabot a freeze is `open-pull-requests-limit: 0` on the environment's update block (see src/freeze). */
function checkDependabotFreeze(ctx: CheckContext): void {
  const spec = ctx.spec!
  const parsed = ctx.yaml.get(DEPENDABOT_CONFIG)
  const config = parsed?.docs[0]?.document.toJS() as { updates?: unknown } | undefined
  const updates = Array.isArray(config?.updates) ? config.updates : []
  for (const env of spec.environments) {
    const directory = dependabotDirectory(spec, env.name)
    const index = updates.findIndex(
      (block) =>
        isRecord(block) &&
        [block.directory, ...(Array.isArray(block.directories) ? block.directories : [])].some(
          (d) => typeof d === 'string' && d.replace(/\/+$/, '') === directory,
        ),
    )
    if (index < 0) continue // dependabot-pin-invisible reports a missing directory
    const paused = (updates[index] as Record<string, unknown>)['open-pull-requests-limit'] === 0
    if (env.frozen && !paused) {
      ctx.report(
        'freeze-mismatch',
        DEPENDABOT_CONFIG,
        locate(parsed, 0, ['updates', index]),
        `environment ${env.name} is frozen in ${SPEC_FILE}, but its Dependabot update block (${directory}) still opens pull requests: set open-pull-requests-limit: 0`,
      )
    } else if (!env.frozen && paused) {
      ctx.report(
        'freeze-mismatch',
        DEPENDABOT_CONFIG,
        locate(parsed, 0, ['updates', index, 'open-pull-requests-limit']),
        `${DEPENDABOT_CONFIG} pauses ${directory} (open-pull-requests-limit: 0), but ${SPEC_FILE} does not freeze ${env.name}`,
      )
    }
  }
}
