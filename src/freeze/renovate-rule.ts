import { pinStoreFor } from '../pins/index.js'
import type { RepoSpec } from '../spec/index.js'

/**
 * The Renovate side of a freeze: a `packageRules` entry that disables updates in the environment's pin files. Kept
 * apart from the rest of freeze so the renovate.json renderer (src/presets) emits exactly what `freeze` writes and
 * `unfreeze` removes: the description is how a rule is recognised as ours.
 */
export interface RenovateFreezeRule {
  description: string
  matchFileNames: string[]
  enabled: false
}

const DESCRIPTION_PREFIX = 'konflux-gitops freeze: '

export function freezeRuleDescription(env: string): string {
  return `${DESCRIPTION_PREFIX}no updates for environment ${env} until \`konflux-gitops unfreeze --env ${env}\``
}

/** The files a freeze covers: the pin seam's files for the environment, or its whole folder for shapes without one. */
export function frozenFiles(spec: RepoSpec, env: string): string[] {
  try {
    return pinStoreFor(spec).files(spec, env)
  } catch {
    return [`environments/${env}/**`]
  }
}

export function renovateFreezeRule(spec: RepoSpec, env: string): RenovateFreezeRule {
  return { description: freezeRuleDescription(env), matchFileNames: frozenFiles(spec, env), enabled: false }
}

/** One rule per frozen environment, in the spec's order: appended last so they win over every earlier rule. */
export function renovateFreezeRules(spec: RepoSpec): RenovateFreezeRule[] {
  return spec.environments.filter((env) => env.frozen).map((env) => renovateFreezeRule(spec, env.name))
}

/** The environment a rule freezes, when it is one of ours. */
export function frozenEnvironmentOf(rule: unknown): string | undefined {
  if (rule === null || typeof rule !== 'object') return undefined
  const { description, enabled } = rule as { description?: unknown; enabled?: unknown }
  if (enabled !== false || typeof description !== 'string' || !description.startsWith(DESCRIPTION_PREFIX)) {
    return undefined
  }
  return /environment ([a-z0-9-]+) /.exec(description)?.[1]
}
