import { checkDependabot } from './check-dependabot.js'
import { checkDrift, type DigestResolver } from './check-drift.js'
import { checkFreeze } from './check-freeze.js'
import { checkHelm } from './check-helm.js'
import { checkKustomize } from './check-kustomize.js'
import { checkLayout, checkSpec } from './check-layout.js'
import { checkManifests } from './check-manifests.js'
import { checkPins } from './check-pins.js'
import { checkRenovate, defaultRenovateChecker, type RenovateChecker } from './check-renovate.js'
import { checkSignatures, type SignatureVerifier } from './check-signatures.js'
import { type CheckContext, FindingCollector } from './context.js'
import { type Finding, RULE_IDS, type RuleId } from './rules.js'
import type { RepoTree } from './tree.js'
import { type ParsedFile, parseYaml } from './yaml-docs.js'

export interface CheckOptions {
  /** Run only these rules (default: all). */
  rules?: readonly RuleId[]
  skipRules?: readonly RuleId[]
  /** Renovate's validator; null skips the Renovate config checks that need it; default loads Renovate lazily. */
  renovate?: RenovateChecker | null
  /** When given, pinned digests are compared with what their tags point to now (--against-registry). */
  resolveDigest?: DigestResolver
  /** When given, every pinned digest must be signed (--against-registry with verify keys). */
  verifySignature?: SignatureVerifier
}

/** Rules that need a flag to run: off unless asked for, even when every rule is selected. */
const OPT_IN: Record<string, 'build' | 'againstRegistry' | 'verify'> = {
  'kustomize-build': 'build',
  'image-unsigned': 'verify',
  'image-drift': 'againstRegistry',
  'registry-lookup-failed': 'againstRegistry',
}

export function selectRules(
  options: Pick<CheckOptions, 'rules' | 'skipRules'> & { build?: boolean; againstRegistry?: boolean; verify?: boolean },
): Set<RuleId> {
  const selected = new Set<RuleId>(options.rules?.length ? options.rules : RULE_IDS)
  for (const [rule, flag] of Object.entries(OPT_IN)) if (!options[flag]) selected.delete(rule as RuleId)
  for (const rule of options.skipRules ?? []) selected.delete(rule)
  return selected
}

const RENOVATE_NEEDS_VALIDATOR: readonly RuleId[] = [
  'renovate-config-invalid',
  'renovate-config-warning',
  'renovate-preset-unresolved',
  'renovate-digest-pinning',
]

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)
  )
}

/** The pure core: a repository tree in, findings out (sorted by file and line). */
function isHelmTemplate(tree: RepoTree, path: string): boolean {
  const at = path.lastIndexOf('/templates/')
  return at >= 0 && tree.files.has(`${path.slice(0, at) === '' ? '' : `${path.slice(0, at)}/`}Chart.yaml`)
}

export async function checkTree(tree: RepoTree, options: CheckOptions = {}): Promise<Finding[]> {
  const collector = new FindingCollector(
    selectRules({
      ...options,
      againstRegistry: options.resolveDigest !== undefined || options.verifySignature !== undefined,
      verify: options.verifySignature !== undefined,
      build: true,
    }),
  )
  const yaml = new Map<string, ParsedFile>()
  const paths = [...tree.files.keys()].sort()
  for (const path of paths) {
    const entry = tree.files.get(path)!
    if (entry.kind === 'symlink-outside') {
      collector.report('symlink-outside', path, null, `symbolic link to ${entry.target}, outside the repository`)
      continue
    }
    if (entry.kind === 'unreadable') {
      collector.report('file-unreadable', path, null, entry.reason)
      continue
    }
    if (entry.kind !== 'text' || !/\.ya?ml$/i.test(path)) continue
    // Helm templates are Go templates, not YAML: `helm template` (kustomize-build's Helm twin) is what reads them.
    if (isHelmTemplate(tree, path)) continue
    const parsed = parseYaml(path, entry.text)
    for (const problem of parsed.problems) collector.report(problem.rule, path, problem, problem.message)
    yaml.set(path, parsed)
  }
  const base: Omit<CheckContext, 'spec'> = {
    tree,
    yaml,
    enabled: collector.enabled,
    report: collector.report,
    invalidPinEntries: new Set(),
  }
  const ctx: CheckContext = { ...base, spec: checkSpec(base) }
  checkLayout(ctx)
  checkKustomize(ctx)
  checkPins(ctx)
  checkHelm(ctx)
  await checkManifests(ctx)
  checkDependabot(ctx)
  // Loading Renovate costs about a second: only when a config file is there to check and its rules are on.
  const renovate = async (): Promise<RenovateChecker | null> => {
    if (options.renovate !== undefined) return options.renovate
    return RENOVATE_NEEDS_VALIDATOR.some((r) => ctx.enabled(r)) ? defaultRenovateChecker() : null
  }
  await checkRenovate(ctx, renovate)
  checkFreeze(ctx)
  if (options.resolveDigest) await checkDrift(ctx, options.resolveDigest)
  if (options.verifySignature) await checkSignatures(ctx, options.verifySignature)
  return collector.findings.sort(compareFindings)
}
