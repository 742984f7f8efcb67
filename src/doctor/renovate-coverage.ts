/**
 * Which package files a Renovate manager (kustomize, helm-values…) would read in this repo, computed with Renovate's own code
 * (preset resolution, config migration, includePaths/ignorePaths/managerFilePatterns matching) so the answer is
 * Renovate's, not a re-implementation. Presets that need the network are left out and named.
 */
import { loadRenovate } from '../renovate/validator.js'

type Obj = Record<string, unknown>

const MODULES = {
  presets: 'renovate/dist/config/presets/index.js',
  fileMatch: 'renovate/dist/workers/repository/extract/file-match.js',
  stringMatch: 'renovate/dist/util/string-match.js',
} as const

/** Renovate's manager for each pin shape konflux-gitops writes. */
export const MANAGER_FOR_SHAPE: Record<string, string> = {
  'kustomize-images': 'kustomize',
  'helm-values': 'helm-values',
  'manifest-patches': 'kubernetes',
}

interface CoverageModules {
  resolveConfigPresets: (config: Obj) => Promise<{ config: Obj }>
  getMatchingFiles: (config: Obj, files: string[]) => string[]
  matchRegexOrGlobList: (input: string, patterns: string[]) => boolean
}

let loaded: Promise<CoverageModules> | undefined

function load(): Promise<CoverageModules> {
  loaded ??= (async () => {
    // loadRenovate silences Renovate's logger before these modules log anything.
    await loadRenovate()
    const [presets, fileMatch, stringMatch] = await Promise.all(
      Object.values(MODULES).map((specifier) => import(specifier) as Promise<Obj>),
    )
    const need = <T>(module: Obj | undefined, name: string): T => {
      const value = module?.[name]
      if (value === undefined)
        throw new Error(`Renovate changed its layout: ${name} not found; update src/doctor/renovate-coverage.ts`)
      return value as T
    }
    return {
      resolveConfigPresets: need(presets, 'resolveConfigPresets'),
      getMatchingFiles: need(fileMatch, 'getMatchingFiles'),
      matchRegexOrGlobList: need(stringMatch, 'matchRegexOrGlobList'),
    }
  })()
  loaded.catch(() => {
    loaded = undefined
  })
  return loaded
}

async function managerDefaults(manager: string): Promise<Obj> {
  // A variable, not a template literal inside import(): Vite (vitest) rewrites an analysable import of an optional
  // peer dependency into a stub that cannot load, even when the package is installed.
  const specifier = `renovate/dist/modules/manager/${manager}/index.js`
  const module = (await import(specifier)) as Obj
  const defaults = module.defaultConfig
  if (typeof defaults !== 'object' || defaults === null) {
    throw new Error(`Renovate has no manager ${manager}; update src/doctor/renovate-coverage.ts`)
  }
  return defaults as Obj
}

export interface Coverage {
  /** Files the manager reads, among `files`. */
  matched: Set<string>
  /** Files a packageRule turns off (`enabled: false` matched by file name). */
  disabledByRule: Map<string, string>
  /** Why kustomize is off altogether (enabledManagers, kustomize.enabled), or null. */
  managerOff: string | null
  /** extends entries that could not be resolved offline (not applied). */
  unresolved: string[]
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

export async function managerCoverage(config: Obj, files: readonly string[], manager: string): Promise<Coverage> {
  const modules = await load()
  const defaults = await managerDefaults(manager)
  const renovate = await loadRenovate()
  const { migratedConfig } = renovate.migrateConfig(structuredClone(config))
  const unresolved: string[] = []
  const internal = strings(migratedConfig.extends).filter((preset) => {
    try {
      if (renovate.parsePreset(preset).presetSource === 'internal') return true
    } catch {
      // an invalid preset is validate's finding; here it is just not applied
    }
    unresolved.push(preset)
    return false
  })
  const { config: resolved } = await modules.resolveConfigPresets({ ...migratedConfig, extends: internal })

  const enabledManagers = strings(resolved.enabledManagers)
  let managerOff: string | null = null
  if (enabledManagers.length > 0 && !enabledManagers.includes(manager)) {
    managerOff = `enabledManagers is ${JSON.stringify(enabledManagers)}, without ${manager}`
  }
  const own = isObj(resolved[manager]) ? (resolved[manager] as Obj) : {}
  if (own.enabled === false) managerOff = `${manager}.enabled is false`

  // managerFilePatterns is mergeable: a repo's patterns add to the manager's defaults.
  const patterns = [...strings(defaults.managerFilePatterns), ...strings(own.managerFilePatterns)]
  const matched = new Set(
    modules.getMatchingFiles(
      {
        manager,
        managerFilePatterns: patterns,
        includePaths: strings(resolved.includePaths),
        ignorePaths: strings(resolved.ignorePaths),
      },
      [...files],
    ),
  )
  const disabledByRule = new Map<string, string>()
  const rules = Array.isArray(resolved.packageRules) ? resolved.packageRules.filter(isObj) : []
  rules.forEach((rule, index) => {
    if (rule.enabled !== false) return
    const byFile = strings(rule.matchFileNames)
    if (byFile.length === 0) return
    const managers = strings(rule.matchManagers)
    if (managers.length > 0 && !managers.includes(manager)) return
    const datasources = strings(rule.matchDatasources)
    if (datasources.length > 0 && !datasources.includes('docker')) return
    // Rules narrowed further (by package name, update type…) disable only part of a file: not a coverage gap.
    const other = Object.keys(rule).filter(
      (k) => k.startsWith('match') && !['matchFileNames', 'matchManagers', 'matchDatasources'].includes(k),
    )
    if (other.length > 0) return
    for (const file of matched) {
      if (modules.matchRegexOrGlobList(file, byFile))
        disabledByRule.set(file, `packageRules[${index}] (enabled: false)`)
    }
  })
  return { matched, disabledByRule, managerOff, unresolved }
}
