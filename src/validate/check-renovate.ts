import { installHint } from '../cli/optional-dependency.js'
import type { DigestPinning, RenovateValidation } from '../renovate/index.js'
import { RENOVATE_CONFIG_FILES } from '../renovate/index.js'
import type { CheckContext } from './context.js'
import { locate, optionPath, type ParsedFile, parseYaml } from './yaml-docs.js'

/** The Renovate checks, passed in so the core can run without loading Renovate (benchmarks, --rule selections). */
export interface RenovateChecker {
  validate(config: unknown, file: string): Promise<RenovateValidation>
  digestPinning(config: unknown): Promise<DigestPinning>
}

/** Renovate's own checks when the optional renovate package is installed; the shipped schema alone otherwise. */
export async function defaultRenovateChecker(): Promise<RenovateChecker> {
  const { validateRenovateConfig, digestPinning } = await import('../renovate/index.js')
  return { validate: (config, file) => validateRenovateConfig(config, { file }), digestPinning }
}

const RENOVATE_RULES = [
  'renovate-config-missing',
  'renovate-config-invalid',
  'renovate-config-warning',
  'renovate-preset-unresolved',
  'renovate-digest-pinning',
  'renovate-not-installed',
] as const

/** JSON5 covers .json, .jsonc, .json5 and .renovaterc (Renovate reads them all with JSON5-compatible parsers). */
async function parseConfig(
  text: string,
): Promise<{ value: unknown; error?: { message: string; line: number | null; column: number | null } }> {
  try {
    return { value: JSON.parse(text) }
  } catch {
    // fall through to the lenient parser, whose errors carry line and column
  }
  const JSON5 = (await import('json5')).default
  try {
    return { value: JSON5.parse(text) }
  } catch (error) {
    const e = error as Error & { lineNumber?: number; columnNumber?: number }
    return {
      value: undefined,
      error: { message: e.message.replace(/^JSON5: /, ''), line: e.lineNumber ?? null, column: e.columnNumber ?? null },
    }
  }
}

export async function checkRenovate(
  ctx: CheckContext,
  loadChecker: () => Promise<RenovateChecker | null>,
): Promise<void> {
  if (!RENOVATE_RULES.some((rule) => ctx.enabled(rule))) return
  const present = RENOVATE_CONFIG_FILES.filter((f) => ctx.tree.files.get(f)?.kind === 'text')
  const usesRenovate = ctx.spec ? ctx.spec.updater === 'renovate' : present.length > 0
  if (present.length === 0) {
    if (ctx.spec?.updater === 'renovate') {
      ctx.report('renovate-config-missing', 'renovate.json', null, 'no Renovate config (renovate.json or .renovaterc*)')
    }
    return
  }
  const checker = await loadChecker()
  if (!checker) return
  for (const path of present) {
    const entry = ctx.tree.files.get(path)
    if (entry?.kind !== 'text') continue
    const { value, error } = await parseConfig(entry.text)
    if (error) {
      ctx.report(
        'yaml-syntax',
        path,
        { line: error.line, column: error.column },
        `not valid JSON/JSON5: ${error.message}`,
      )
      continue
    }
    // Positions only: the YAML parser reads JSON and keeps offsets; JSON5 syntax may not parse, then lines are null.
    let located: ParsedFile | undefined = parseYaml(path, entry.text)
    if (located.problems.length > 0) located = undefined
    const where = (option: string | null) => (located ? locate(located, 0, optionPath(option)) : null)
    const result = await checker.validate(value, path)
    if (result.checkedBy === 'schema') {
      ctx.report(
        'renovate-not-installed',
        path,
        null,
        `checked against the schema konflux-gitops ships only: Renovate's own validator, migration and preset checks need the renovate package. ${installHint('renovate')}`,
      )
    }
    for (const issue of result.errors) ctx.report('renovate-config-invalid', path, where(issue.option), issue.message)
    for (const issue of result.warnings) {
      const rule = issue.source === 'extends' ? 'renovate-preset-unresolved' : 'renovate-config-warning'
      ctx.report(rule, path, where(issue.option), issue.message)
    }
    const hasImages = (ctx.spec?.components.length ?? 1) > 0
    if (usesRenovate && hasImages && ctx.enabled('renovate-digest-pinning')) {
      const pinning = await checker.digestPinning(value)
      if (pinning.status === 'disabled') {
        ctx.report(
          'renovate-digest-pinning',
          path,
          where('extends'),
          'image digests are not pinned: no pinDigests, docker:pinDigests or config:best-practices',
        )
      }
    }
    // Renovate reads the first config file it finds and ignores the rest.
    break
  }
}
