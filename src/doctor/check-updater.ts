import { matchesGlob } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { installHint, isInstalled } from '../cli/optional-dependency.js'
import { pinStoreFor } from '../pins/index.js'
import { RENOVATE_CONFIG_FILES } from '../renovate/index.js'
import type { Finding } from '../validate/index.js'
import type { CheckLine, DoctorContext } from './types.js'

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The validate findings about the updater's config, as one line. */
export function updaterConfigLine(findings: readonly Finding[], updater: string): CheckLine {
  const errors = findings.filter((f) => f.severity === 'error')
  const warnings = findings.filter((f) => f.severity === 'warning')
  const first = errors[0] ?? warnings[0]
  const where = (f: Finding) => `${f.file}${f.line ? `:${f.line}` : ''}: ${f.message}`
  return {
    id: 'updater.config',
    link: 'updater',
    status: errors.length ? 'fail' : warnings.length ? 'warn' : 'ok',
    message: first
      ? `${errors.length} error(s), ${warnings.length} warning(s) in the ${updater} config; first: ${where(first)}`
      : updater === 'Renovate' && findings.some((f) => f.rule === 'renovate-not-installed')
        ? 'Renovate config passes the schema konflux-gitops ships and pins digests (renovate is not installed: Renovate’s own validator did not run)'
        : updater === 'Renovate'
          ? "Renovate config passes Renovate's own validator and its JSON schema, and pins digests"
          : 'Dependabot config: every pin is visible to Dependabot (validate rules)',
    fix: first ? first.hint : null,
  }
}

async function parseConfig(text: string): Promise<Record<string, unknown> | undefined> {
  try {
    const JSON5 = (await import('json5')).default
    const value = JSON5.parse(text) as unknown
    return isObj(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Renovate: its kustomize manager reads every environment's pin file. */
async function renovateCoverage(ctx: DoctorContext): Promise<CheckLine> {
  const spec = ctx.spec!
  const configFile = RENOVATE_CONFIG_FILES.find((f) => ctx.readText(f) !== undefined)
  if (!configFile) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: 'no Renovate config file: Renovate would onboard the repo first, or skip it (requireConfig)',
      fix: 'Run `npx konflux-gitops init` to write renovate.json, and commit it.',
    }
  }
  const config = await parseConfig(ctx.readText(configFile) ?? '')
  if (!config) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: `${configFile} cannot be read as a JSON object`,
      fix: `Fix ${configFile} (see the updater.config line).`,
    }
  }
  const store = pinStoreFor(spec)
  const pinFiles = spec.environments.flatMap((env) =>
    store.files(spec, env.name).map((file) => ({ env: env.name, file })),
  )
  if (!isInstalled('renovate')) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'warn',
      message: `not checked: which files Renovate reads is computed with Renovate's own code, and renovate is not installed`,
      fix: installHint('renovate'),
    }
  }
  const { managerCoverage, MANAGER_FOR_SHAPE } = await import('./renovate-coverage.js')
  const manager = MANAGER_FOR_SHAPE[store.shape] ?? 'kustomize'
  const coverage = await managerCoverage(config, [...new Set([...ctx.files, ...pinFiles.map((p) => p.file)])], manager)
  const note = coverage.unresolved.length ? ` (presets not resolved offline: ${coverage.unresolved.join(', ')})` : ''
  if (coverage.managerOff) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: `${configFile}: Renovate's ${manager} manager is off (${coverage.managerOff}): no environment gets digest updates`,
      fix: `Add "${manager}" to enabledManagers (or remove ${manager}.enabled: false) in ${configFile}.`,
    }
  }
  // A frozen environment's files are disabled on purpose (the freeze rule): expected, not a gap.
  const frozen = new Set(spec.environments.filter((env) => env.frozen).map((env) => env.name))
  const missed = pinFiles.filter(
    (p) => !coverage.matched.has(p.file) || (coverage.disabledByRule.has(p.file) && !frozen.has(p.env)),
  )
  if (missed.length > 0) {
    const why = missed.map((p) =>
      coverage.disabledByRule.has(p.file)
        ? `${p.env} (${p.file}: disabled by ${coverage.disabledByRule.get(p.file)})`
        : `${p.env} (${p.file}: excluded by includePaths/ignorePaths or managerFilePatterns)`,
    )
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: `Renovate would not read ${missed.length} environment(s): ${why.join('; ')}${note}`,
      fix: `Edit ${configFile} so its includePaths/ignorePaths (including those from presets such as config:recommended's **/test/**), ${manager}.managerFilePatterns and packageRules leave ${missed.map((p) => p.file).join(', ')} in.`,
    }
  }
  return {
    id: 'updater.coverage',
    link: 'updater',
    status: coverage.unresolved.length ? 'warn' : 'ok',
    message: `Renovate's ${manager} manager reads all ${pinFiles.length} environment pin file(s)${frozen.size ? ` (updates off in frozen ${[...frozen].join(', ')})` : ''}${note}`,
    fix: coverage.unresolved.length ? '`doctor --renovate` runs the real lookup, presets included.' : null,
  }
}

/** Dependabot: what its docker ecosystem can see (it never reads kustomize `images:` entries). */
function dependabotCoverage(ctx: DoctorContext): CheckLine {
  const spec = ctx.spec!
  const file = ['.github/dependabot.yml', '.github/dependabot.yaml'].find((f) => ctx.readText(f) !== undefined)
  if (!file) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: 'updater: dependabot, but there is no .github/dependabot.yml',
      fix: 'Add .github/dependabot.yml with a `package-ecosystem: docker` entry listing the environment directories.',
    }
  }
  let config: unknown
  try {
    config = parseYaml(ctx.readText(file) ?? '')
  } catch (error) {
    return {
      id: 'updater.coverage',
      link: 'updater',
      status: 'fail',
      message: `${file}: ${(error as Error).message.split('\n')[0]}`,
      fix: `Fix the YAML in ${file}.`,
    }
  }
  const updates = isObj(config) && Array.isArray(config.updates) ? config.updates.filter(isObj) : []
  const docker = updates.filter((u) => u['package-ecosystem'] === 'docker')
  const dirs = docker.flatMap((u) => [
    ...(typeof u.directory === 'string' ? [u.directory] : []),
    ...(Array.isArray(u.directories) ? u.directories.filter((d): d is string => typeof d === 'string') : []),
  ])
  const absolute = (d: string) => `/${d.replace(/^\/+/, '').replace(/\/+$/, '')}`
  // Dependabot reads only the listed directories (globs allowed), not their subdirectories.
  const store = pinStoreFor(spec)
  const missed: string[] = []
  for (const env of spec.environments) {
    for (const pinFile of store.files(spec, env.name)) {
      const dir = absolute(pinFile.slice(0, pinFile.lastIndexOf('/')))
      if (!dirs.some((d) => matchesGlob(dir, absolute(d)))) missed.push(dir)
    }
  }
  return {
    id: 'updater.coverage',
    link: 'updater',
    status: missed.length ? 'fail' : 'ok',
    message: missed.length
      ? `${file}: no docker entry lists ${[...new Set(missed)].join(', ')} (Dependabot is not recursive)`
      : `${file}: docker updates cover every environment's pin directory`,
    fix: missed.length
      ? `Add those directories to a docker entry's directories: in ${file} (\`npx konflux-gitops init\` writes them).`
      : null,
  }
}

/** Updater: its config is valid (validate's findings) and it reads every environment's pin file. */
export async function checkUpdater(
  ctx: DoctorContext,
  configFindings: readonly Finding[] | undefined,
): Promise<CheckLine[]> {
  const spec = ctx.spec
  if (!spec) return []
  const lines: CheckLine[] = []
  if (configFindings)
    lines.push(updaterConfigLine(configFindings, spec.updater === 'renovate' ? 'Renovate' : 'Dependabot'))
  lines.push(spec.updater === 'renovate' ? await renovateCoverage(ctx) : dependabotCoverage(ctx))
  lines.push(...frozenLines(spec))
  return lines
}

/**
 * A frozen environment is healthy: it reports who froze it and why, and that the updater opens no pull request
 * there. Whether the updater config really pauses it is validate's freeze-mismatch (the repo.validate line).
 */
function frozenLines(spec: NonNullable<DoctorContext['spec']>): CheckLine[] {
  const updater = spec.updater === 'dependabot' ? 'Dependabot' : 'Renovate'
  const how =
    spec.updater === 'dependabot'
      ? 'open-pull-requests-limit: 0 in .github/dependabot.yml'
      : 'a packageRules entry with enabled: false'
  return spec.environments.flatMap((env) =>
    env.frozen
      ? [
          {
            id: `updater.frozen.${env.name}`,
            link: 'updater' as const,
            status: 'ok' as const,
            message: `${env.name} is frozen by ${env.frozen.by} since ${env.frozen.at}${env.frozen.reason ? `: ${env.frozen.reason}` : ''}; ${updater} opens no pull request for it (${how})`,
            fix: null,
          },
        ]
      : [],
  )
}
