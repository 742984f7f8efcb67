import type { RepoSpec } from '../spec/index.js'
import { type Finding, type RuleId, ruleById } from './rules.js'
import type { RepoTree } from './tree.js'
import type { ParsedFile, Position } from './yaml-docs.js'

/** What every check reads, built once per run. */
export interface CheckContext {
  tree: RepoTree
  /** Every YAML file that parsed into at least one document, by path. */
  yaml: ReadonlyMap<string, ParsedFile>
  /** The spec when konflux-gitops.yaml is present and valid. */
  spec: RepoSpec | undefined
  /** Rules selected for this run; checks skip work for rules that are off. */
  enabled(rule: RuleId): boolean
  /** A finding; `hint` replaces the rule's own hint where a shape spells the fix differently. */
  report(rule: RuleId, file: string, position: Position | null, message: string, hint?: string): void
  /** `file:line:column` of pin entries whose shape is invalid (reported once): the policy skips them. */
  invalidPinEntries: Set<string>
}

export class FindingCollector {
  readonly findings: Finding[] = []
  private readonly selected: ReadonlySet<string>

  constructor(selected: ReadonlySet<string>) {
    this.selected = selected
  }

  enabled = (rule: RuleId): boolean => this.selected.has(rule)

  report = (rule: RuleId, file: string, position: Position | null, message: string, hint?: string): void => {
    if (!this.selected.has(rule)) return
    const definition = ruleById(rule)
    if (!definition) throw new Error(`internal: rule ${rule} is not in RULES`)
    this.findings.push({
      rule,
      severity: definition.severity,
      file,
      line: position?.line ?? null,
      column: position?.column ?? null,
      message,
      hint: hint ?? definition.hint,
    })
  }
}

/** Normalise `a/b/../c` relative to a directory; undefined when it climbs out of the repository. */
export function joinRepoPath(dir: string, relative: string): string | undefined {
  const parts = dir === '' ? [] : dir.split('/')
  for (const part of relative.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (parts.length === 0) return undefined
      parts.pop()
    } else parts.push(part)
  }
  return parts.join('/')
}

export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? '' : path.slice(0, slash)
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
