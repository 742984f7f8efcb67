import automergeDev from '../../presets/automerge-dev.json' with { type: 'json' }
import defaultPreset from '../../presets/default.json' with { type: 'json' }
import digestPinning from '../../presets/digest-pinning.json' with { type: 'json' }
import groupByEnvironment from '../../presets/group-by-environment.json' with { type: 'json' }
import { UsageError } from '../cli/errors.js'
import { renovateFreezeRules } from '../freeze/renovate-rule.js'
import { autoMergeOf, type RepoSpec } from '../spec/index.js'

/** What Renovate reads: plain JSON. */
export type RenovateConfig = Record<string, unknown>

export const PRESET_NAMES = ['default', 'digest-pinning', 'group-by-environment', 'automerge-dev'] as const
export type PresetName = (typeof PRESET_NAMES)[number]

/** The shipped templates (presets/*.json); JSON imports keep rendering synchronous and free of fs. */
export const PRESET_TEMPLATES: Readonly<Record<PresetName, RenovateConfig>> = {
  default: defaultPreset,
  'digest-pinning': digestPinning,
  'group-by-environment': groupByEnvironment,
  'automerge-dev': automergeDev,
}

/** Environments whose name says production: never auto-merged by an org preset. */
export const PRODUCTION_ENVIRONMENTS = ['prod', 'production']

/** The one refusal of auto-merge for a production environment (presets build --automerge, env add --auto-merge). */
export function checkAutomergeEnvironment(env: string, flag: string): void {
  if (PRODUCTION_ENVIRONMENTS.includes(env)) {
    throw new UsageError(`${flag}: "${env}" is production; konflux-gitops never auto-merges it`, {
      code: 'automerge-production',
      hint: 'Promote to production through a reviewed pull request; auto-merge dev-like environments only.',
    })
  }
}

export interface PresetParameters {
  /** The floating tag Konflux moves after a Snapshot passes, e.g. "released". */
  tag: string
  /** Renovate `matchPackageNames` globs for the images konflux-gitops manages, e.g. "quay.io/acme/**". */
  packagePatterns: string[]
  /** Environment directory names whose digest updates merge on their own. */
  automergeEnvironments: string[]
  /** Environment directory names that must never merge on their own. */
  manualEnvironments: string[]
}

/** Parameters for an organisation-wide preset (`presets build`). */
export function orgPresetParameters(options: {
  registryPrefix?: string | undefined
  tag?: string | undefined
  automerge?: string[] | undefined
}): PresetParameters {
  const automergeEnvironments = unique(options.automerge ?? ['dev'])
  const prefix = options.registryPrefix?.replace(/\/+$/, '')
  return {
    tag: options.tag ?? 'released',
    packagePatterns: prefix ? [`${prefix}/**`] : ['**'],
    automergeEnvironments,
    manualEnvironments: PRODUCTION_ENVIRONMENTS.filter((env) => !automergeEnvironments.includes(env)),
  }
}

/** Parameters for one GitOps repo: its own images and environments, as its spec says. */
export function repoPresetParameters(spec: RepoSpec): PresetParameters {
  const images = unique(spec.components.map((component) => component.image))
  return {
    tag: spec.tag,
    packagePatterns: images.length > 0 ? images : ['**'],
    automergeEnvironments: spec.environments.filter((env) => autoMergeOf(env)).map((env) => env.name),
    manualEnvironments: spec.environments.filter((env) => !autoMergeOf(env)).map((env) => env.name),
  }
}

const PLACEHOLDER = /@@([A-Za-z_:-]+)@@/g

/**
 * Fill one shipped template. Placeholders are `@@NAME@@`: inside a string they are replaced by text;
 * as a whole array element, list placeholders and `@@include:PRESET@@` splice in several elements.
 * A package rule left with an empty `match*` list is dropped, because Renovate treats a missing
 * matcher as "match everything" and an auto-merge rule must never widen that way.
 */
export function renderPreset(name: PresetName, parameters: PresetParameters): RenovateConfig {
  const rendered = fill(PRESET_TEMPLATES[name], parameters, [name]) as RenovateConfig
  if (Array.isArray(rendered.packageRules)) rendered.packageRules = rendered.packageRules.filter(matchesSomething)
  return rendered
}

/** Every shipped preset rendered with the same parameters, keyed by file name. */
export function renderAllPresets(parameters: PresetParameters): Record<PresetName, RenovateConfig> {
  return Object.fromEntries(PRESET_NAMES.map((name) => [name, renderPreset(name, parameters)])) as Record<
    PresetName,
    RenovateConfig
  >
}

/**
 * The `renovate.json` of a GitOps repo: `extends` the org preset when the spec names one, otherwise
 * the default preset's rules inlined for this repo's images and environments, so it works with no
 * org preset and no network.
 */
export function renovateConfigForRepo(spec: RepoSpec): RenovateConfig {
  const config: RenovateConfig = spec.renovatePreset
    ? { $schema: 'https://docs.renovatebot.com/renovate-schema.json', extends: [spec.renovatePreset] }
    : renderPreset('default', repoPresetParameters(spec))
  // Frozen environments (konflux-gitops freeze): their rules come last so they win over every earlier rule.
  const freezeRules = renovateFreezeRules(spec)
  if (freezeRules.length > 0) {
    config.packageRules = [...(Array.isArray(config.packageRules) ? config.packageRules : []), ...freezeRules]
  }
  return config
}

/** What users put in `extends`: `github>ORG/REPO` for default.json, `github>ORG/REPO:NAME` for the others. */
export function presetReference(org: string, repo: string, name: PresetName = 'default'): string {
  return name === 'default' ? `github>${org}/${repo}` : `github>${org}/${repo}:${name}`
}

function listPlaceholder(key: string, parameters: PresetParameters, stack: string[]): unknown[] | undefined {
  switch (key) {
    case 'PACKAGE_PATTERNS':
      return parameters.packagePatterns
    case 'AUTOMERGE_PATHS':
      return parameters.automergeEnvironments.map(environmentGlob)
    case 'MANUAL_PATHS':
      return parameters.manualEnvironments.map(environmentGlob)
  }
  if (key.startsWith('include:')) {
    const included = key.slice('include:'.length)
    if (!isPresetName(included)) throw new Error(`preset template ${stack.at(-1)}: unknown preset "${included}"`)
    if (stack.includes(included)) throw new Error(`preset template ${stack.join(' -> ')} includes itself`)
    const rules = PRESET_TEMPLATES[included].packageRules
    return Array.isArray(rules) ? (fill(rules, parameters, [...stack, included]) as unknown[]) : []
  }
  return undefined
}

function textPlaceholder(key: string, parameters: PresetParameters, stack: string[]): string {
  switch (key) {
    case 'TAG':
      return parameters.tag
    case 'REGISTRY_LABEL':
      return parameters.packagePatterns.join(', ')
    case 'AUTOMERGE_LABEL':
      return describeList(parameters.automergeEnvironments)
    case 'MANUAL_LABEL':
      return describeList(parameters.manualEnvironments)
  }
  throw new Error(`preset template ${stack.join(' -> ')}: unknown placeholder @@${key}@@`)
}

function fill(value: unknown, parameters: PresetParameters, stack: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_, key: string) => textPlaceholder(key, parameters, stack))
  }
  if (Array.isArray(value)) {
    return value.flatMap((element) => {
      const whole = typeof element === 'string' ? /^@@([A-Za-z_:-]+)@@$/.exec(element) : null
      const spliced = whole?.[1] === undefined ? undefined : listPlaceholder(whole[1], parameters, stack)
      return spliced ?? [fill(element, parameters, stack)]
    })
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner, parameters, stack)]))
  }
  return value
}

function matchesSomething(rule: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return true
  return !Object.entries(rule).some(
    ([key, value]) => key.startsWith('match') && Array.isArray(value) && value.length === 0,
  )
}

function environmentGlob(environment: string): string {
  return `environments/${environment}/**`
}

function describeList(names: string[]): string {
  return names.length > 0 ? names.join(', ') : 'no environment'
}

function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name)
}

function unique(values: string[]): string[] {
  return [...new Set(values)]
}
