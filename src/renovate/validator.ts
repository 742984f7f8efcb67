import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { isInstalled, missingDependency } from '../cli/optional-dependency.js'
import { ownRoot } from '../cli/package-info.js'

/** One problem in a Renovate config, named by file and (when known) the option path, e.g. `packageRules[0].pinDigests`. */
export interface Issue {
  file: string
  option: string | null
  message: string
  /** Which check found it: Renovate's own validator, the JSON schema it ships, preset resolution, or migration. */
  source: 'renovate' | 'schema' | 'extends' | 'migration'
}

/** `file: option: message`, the way errors and warnings name a Renovate finding. */
export function describeIssue(issue: Issue): string {
  return `${issue.file}: ${issue.option ? `${issue.option}: ` : ''}${issue.message}`
}

export interface RenovateValidation {
  errors: Issue[]
  warnings: Issue[]
  /**
   * Who checked: Renovate's validator, migration and presets plus its schema (`renovate`), or, when the optional
   * renovate package is not installed, only the schema konflux-gitops ships (`schema`).
   */
  checkedBy?: 'renovate' | 'schema'
}

export interface ValidateRenovateOptions {
  file: string
  isPreset?: boolean
}

type RenovateMessage = { topic?: string; message: string }
type ValidateConfigFn = (
  configType: 'repo' | 'global' | 'inherit',
  config: unknown,
  isPreset?: boolean,
) => Promise<{ errors: RenovateMessage[]; warnings: RenovateMessage[] }>
type PresetGroups = Record<string, Record<string, Record<string, unknown> | undefined> | undefined>

interface RenovateModules {
  validateConfig: ValidateConfigFn
  migrateConfig: (config: unknown) => { isMigrated: boolean; migratedConfig: Record<string, unknown> }
  massageConfig: (config: unknown) => unknown
  parsePreset: (input: string) => { presetSource: string; repo: string; presetName: string }
  internalPresets: PresetGroups
}

/*
 * Renovate ships no types or `exports` map for these deep paths, so they are imported by variable specifier and
 * checked at run time: a Renovate upgrade that moves them must fail loudly here, not validate nothing.
 */
const MODULES = {
  validation: 'renovate/dist/config/validation.js',
  migration: 'renovate/dist/config/migration.js',
  massage: 'renovate/dist/config/massage.js',
  presetParse: 'renovate/dist/config/presets/parse.js',
  presetInternal: 'renovate/dist/config/presets/internal/index.js',
  logger: 'renovate/dist/logger/index.js',
} as const

let modulesPromise: Promise<RenovateModules> | undefined

function requireExport<T>(module: Record<string, unknown>, specifier: string, name: string, kind: string): T {
  const value = module[name]
  if (typeof value !== kind) {
    throw new Error(
      `Renovate's in-process validator is unavailable: ${specifier} has no ${kind} export "${name}". ` +
        'The installed renovate package changed its layout; update src/renovate/validator.ts.',
    )
  }
  return value as T
}

async function importModule(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>
  } catch (cause) {
    throw new Error(
      `Renovate's in-process validator is unavailable: cannot import ${specifier} (${(cause as Error).message}). ` +
        'Is the renovate package installed?',
      { cause },
    )
  }
}

/**
 * Renovate's logger queues every message until its CLI initialises bunyan, and warns on stderr once. We are not its
 * CLI: a silent sink keeps our stdout/stderr ours and the queue from growing with every validated config.
 */
function silenceRenovateLogger(loggerModule: Record<string, unknown>): void {
  const logger = loggerModule.logger as { bunyan?: unknown } | undefined
  if (!logger || !('bunyan' in logger)) return
  const noop = () => {}
  const sink = {
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    addSerializers: noop,
    addStream: noop,
    levels: noop,
    child: () => sink,
  }
  logger.bunyan = sink
}

/** Is the optional renovate package installed next to konflux-gitops? */
export function renovateInstalled(): boolean {
  return isInstalled('renovate')
}

/** Renovate's own modules; rejects with code optional-dependency-missing (and how to install it) when absent. */
export function loadRenovate(): Promise<RenovateModules> {
  if (!renovateInstalled()) {
    return Promise.reject(missingDependency('renovate', "Renovate's own config validator"))
  }
  modulesPromise ??= (async () => {
    const [validation, migration, massage, presetParse, presetInternal, logger] = await Promise.all([
      importModule(MODULES.validation),
      importModule(MODULES.migration),
      importModule(MODULES.massage),
      importModule(MODULES.presetParse),
      importModule(MODULES.presetInternal),
      importModule(MODULES.logger),
    ])
    silenceRenovateLogger(logger)
    return {
      validateConfig: requireExport<ValidateConfigFn>(validation, MODULES.validation, 'validateConfig', 'function'),
      migrateConfig: requireExport(migration, MODULES.migration, 'migrateConfig', 'function'),
      massageConfig: requireExport(massage, MODULES.massage, 'massageConfig', 'function'),
      parsePreset: requireExport(presetParse, MODULES.presetParse, 'parsePreset', 'function'),
      internalPresets: requireExport<PresetGroups>(presetInternal, MODULES.presetInternal, 'groups', 'object'),
    }
  })()
  modulesPromise.catch(() => {
    modulesPromise = undefined
  })
  return modulesPromise
}

interface SchemaValidator {
  validate: ValidateFunction
  /** Renovate's schema lists only match* keys under packageRules; the one konflux-gitops ships lists every key. */
  rulesNeedOwnPass: boolean
}

let schemaPromise: Promise<SchemaValidator> | undefined

/**
 * Renovate's validator misses enum errors (`automergeType: "rocket"`); a JSON schema catches them. With Renovate
 * installed, the schema it ships (every option of that version); without it, schemas/renovate-config.json, which
 * konflux-gitops writes itself from Renovate's documented options.
 */
function loadSchemaValidator(): Promise<SchemaValidator> {
  schemaPromise ??= (async () => {
    const fromRenovate = renovateInstalled()
    const schemaFile = fromRenovate
      ? createRequire(import.meta.url).resolve('renovate/renovate-schema.json')
      : join(ownRoot(), 'schemas', 'renovate-config.json')
    const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as Record<string, unknown>
    const { Ajv } = await import('ajv')
    // strict: false because the schema uses keywords ajv does not know (markdownDescription, allowComments).
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false })
    return { validate: ajv.compile(schema), rulesNeedOwnPass: fromRenovate }
  })()
  schemaPromise.catch(() => {
    schemaPromise = undefined
  })
  return schemaPromise
}

/** `packageRules[0].pinDigests` from a validator message, so findings name the option. */
function optionFromMessage(message: string): string | null {
  const quoted = /`([A-Za-z_$][\w$.[\]-]*)`/.exec(message)
  if (quoted?.[1]) return quoted[1]
  const trailing = /option:\s*([\w$.[\]-]+)/.exec(message)
  return trailing?.[1] ?? null
}

function pointerToOption(prefix: string, pointer: string): string | null {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  let out = prefix
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`
  return out === '' ? null : out
}

function schemaIssues(validate: ValidateFunction, value: unknown, file: string, prefix: string): Issue[] {
  if (validate(value)) return []
  const issues: Issue[] = []
  const seen = new Set<string>()
  for (const error of validate.errors ?? []) {
    // A oneOf/anyOf failure repeats under every branch; the enum or type line is the one a user can act on.
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf' || error.keyword === 'if') continue
    const option = pointerToOption(prefix, error.instancePath)
    let message = `${option ?? 'config'} ${error.message ?? 'is invalid'}`
    if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? []
      message = `${option} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
    }
    if (error.keyword === 'not' && error.instancePath === '') {
      message = 'config sets a global-only (self-hosted) option that a repository config cannot set'
    }
    if (seen.has(message)) continue
    seen.add(message)
    issues.push({ file, option, message, source: 'schema' })
  }
  return issues
}

/** Option keys Renovate allows in packageRules are top-level options too; the schema's packageRules lists only match*. */
function packageRuleSchemaIssues(validate: ValidateFunction, config: Record<string, unknown>, file: string): Issue[] {
  const rules = config.packageRules
  if (!Array.isArray(rules)) return []
  return rules.flatMap((rule, index) => {
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return []
    return schemaIssues(validate, rule, file, `packageRules[${index}]`).filter((i) => i.option !== null)
  })
}

function extendsIssues(modules: RenovateModules, config: Record<string, unknown>, file: string): RenovateValidation {
  const errors: Issue[] = []
  const warnings: Issue[] = []
  const list = config.extends
  if (!Array.isArray(list)) return { errors, warnings }
  list.forEach((entry, index) => {
    const option = `extends[${index}]`
    if (typeof entry !== 'string') return // Renovate's validator reports the wrong type.
    let parsed: ReturnType<RenovateModules['parsePreset']>
    try {
      parsed = modules.parsePreset(entry)
    } catch (err) {
      errors.push({
        file,
        option,
        message: `preset "${entry}" is invalid: ${(err as Error).message}`,
        source: 'extends',
      })
      return
    }
    if (parsed.presetSource === 'internal') {
      if (!modules.internalPresets[parsed.repo]?.[parsed.presetName]) {
        errors.push({
          file,
          option,
          message: `preset "${entry}" does not exist among Renovate's built-in presets`,
          source: 'extends',
        })
      }
      return
    }
    warnings.push({
      file,
      option,
      message: `preset "${entry}" (${parsed.presetSource}) cannot be resolved offline; it was not checked`,
      source: 'extends',
    })
  })
  return { errors, warnings }
}

function toIssues(messages: RenovateMessage[], file: string): Issue[] {
  return messages.map((m) => ({ file, option: optionFromMessage(m.message), message: m.message, source: 'renovate' }))
}

/**
 * Validate a Renovate repository config or preset the way `renovate-config-validator` does (migrate, massage,
 * validate), plus the JSON schema Renovate ships (enum errors its validator misses) and an offline check of `extends`.
 */
export async function validateRenovateConfig(
  config: unknown,
  options: ValidateRenovateOptions,
): Promise<RenovateValidation> {
  const { file, isPreset = false } = options
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    return {
      errors: [{ file, option: null, message: 'a Renovate config must be a JSON object', source: 'renovate' }],
      warnings: [],
    }
  }
  const schema = await loadSchemaValidator()
  const schemaFindings = [
    ...schemaIssues(schema.validate, config, file, ''),
    ...(schema.rulesNeedOwnPass
      ? packageRuleSchemaIssues(schema.validate, config as Record<string, unknown>, file)
      : []),
  ]
  if (!renovateInstalled()) return { errors: schemaFindings, warnings: [], checkedBy: 'schema' }
  const modules = await loadRenovate()
  const errors: Issue[] = []
  const warnings: Issue[] = []

  // Renovate mutates and freezes parts of what it is given; work on a copy so callers keep theirs.
  const original = structuredClone(config) as Record<string, unknown>
  const { isMigrated, migratedConfig } = modules.migrateConfig(structuredClone(original))
  if (isMigrated) {
    const changed = Object.keys({ ...original, ...migratedConfig }).filter(
      (key) => JSON.stringify(original[key]) !== JSON.stringify(migratedConfig[key]),
    )
    const deprecated = changed.filter((key) => key in original)
    warnings.push({
      file,
      option: deprecated.length === 1 ? (deprecated[0] ?? null) : null,
      message: `config uses deprecated options and needs migration (${(deprecated.length ? deprecated : changed).join(', ')}); run renovate-config-validator --strict to see the migrated form`,
      source: 'migration',
    })
  }
  const massaged = modules.massageConfig(migratedConfig)
  const result = await modules.validateConfig('repo', massaged, isPreset)
  errors.push(...toIssues(result.errors, file))
  warnings.push(...toIssues(result.warnings, file))

  const knownToRenovate = new Set(errors.map((e) => e.option).filter((o) => o !== null))
  for (const issue of schemaFindings) {
    // Renovate already named this option (e.g. a wrong type); one finding per mistake is enough.
    if (issue.option !== null && knownToRenovate.has(issue.option)) continue
    errors.push(issue)
  }
  const presets = extendsIssues(modules, original, file)
  errors.push(...presets.errors)
  warnings.push(...presets.warnings)
  return { errors, warnings, checkedBy: 'renovate' }
}

export type DigestPinning =
  | { status: 'enabled'; via: string }
  | { status: 'disabled'; via: string | null }
  | { status: 'unknown'; via: string }

/** Built-in presets that turn pinDigests on (Renovate's docs: docker:pinDigests, config:best-practices). */
const PINNING_PRESETS = new Set(['docker:pinDigests', 'config:best-practices'])

const IMAGE_MANAGERS = new Set(['kustomize', 'helm-values', 'helmv3', 'kubernetes', 'argocd', 'dockerfile'])

function ruleAppliesToImages(rule: Record<string, unknown>): boolean {
  const datasources = rule.matchDatasources
  const managers = rule.matchManagers
  if (datasources === undefined && managers === undefined) return true
  if (Array.isArray(datasources) && datasources.includes('docker')) return true
  return Array.isArray(managers) && managers.some((m) => typeof m === 'string' && IMAGE_MANAGERS.has(m))
}

/**
 * Does this config pin container image digests? Follows built-in presets offline (docker:pinDigests,
 * config:best-practices); an unresolvable preset makes the answer "unknown" rather than "disabled".
 */
export async function digestPinning(config: unknown): Promise<DigestPinning> {
  const modules = renovateInstalled() ? await loadRenovate() : null
  const unresolved: string[] = []
  const visit = (node: unknown, via: string, depth: number): DigestPinning | undefined => {
    if (depth > 20 || node === null || typeof node !== 'object') return undefined
    const cfg = node as Record<string, unknown>
    if (cfg.pinDigests === true) return { status: 'enabled', via }
    if (Array.isArray(cfg.packageRules)) {
      for (const rule of cfg.packageRules) {
        if (rule && typeof rule === 'object' && (rule as Record<string, unknown>).pinDigests === true) {
          if (ruleAppliesToImages(rule as Record<string, unknown>))
            return { status: 'enabled', via: `${via} packageRules` }
        }
      }
    }
    for (const entry of Array.isArray(cfg.extends) ? cfg.extends : []) {
      if (typeof entry !== 'string') continue
      if (!modules) {
        // Without Renovate's preset definitions, only the built-in presets known to pin digests are recognised.
        if (PINNING_PRESETS.has(entry)) return { status: 'enabled', via: `extends ${entry}` }
        unresolved.push(entry)
        continue
      }
      let parsed: ReturnType<RenovateModules['parsePreset']>
      try {
        parsed = modules.parsePreset(entry)
      } catch {
        continue
      }
      if (parsed.presetSource !== 'internal') {
        unresolved.push(entry)
        continue
      }
      const found = visit(modules.internalPresets[parsed.repo]?.[parsed.presetName], `extends ${entry}`, depth + 1)
      if (found) return found
    }
    return undefined
  }
  const found = visit(config, 'config', 0)
  if (found) return found
  if (unresolved.length > 0) return { status: 'unknown', via: unresolved.join(', ') }
  return { status: 'disabled', via: null }
}
