import { realpath } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { UserError } from '../cli/errors.js'
import { openRepo } from '../git/index.js'
import { type RepoSpec, readSpec } from '../spec/index.js'
import { buildHelmEnvironment, buildOverlay, findHelm, findKustomize, type KustomizeTool } from './build.js'
import type { DigestResolver } from './check-drift.js'
import type { RenovateChecker } from './check-renovate.js'
import { type CheckOptions, checkTree, compareFindings, selectRules } from './core.js'
import { readRepoTree } from './fs-tree.js'
import { type Finding, type RuleId, ruleById, SEVERITY_RANK, type Severity } from './rules.js'
import type { RepoTree } from './tree.js'

export type FailOn = 'error' | 'warning'

export interface ValidateOptions {
  rules?: readonly RuleId[]
  skipRules?: readonly RuleId[]
  failOn?: FailOn
  /** Run kustomize build for every environment overlay. */
  build?: boolean
  /** Compare pinned digests with what their tags point to now (anonymous or docker-config credentials). */
  againstRegistry?: boolean
  /** Overrides the registry client for --against-registry (tests, other callers with their own client). */
  resolveDigest?: DigestResolver
  /**
   * With againstRegistry: public key files every pinned digest must be signed by (added to konflux-gitops.yaml's
   * verify.keys, which are relative to the repository).
   */
  verifyKeys?: readonly string[]
  renovate?: RenovateChecker | null
  /** PATH to look for kustomize/kubectl in (default process.env.PATH). */
  toolPath?: string
}

export interface ValidateReport {
  directory: string
  /** True when no finding is at or above failOn. */
  ok: boolean
  failOn: FailOn
  counts: Record<Severity, number>
  filesChecked: number
  rules: RuleId[]
  build: { tool: string | null; overlays: number } | null
  findings: Finding[]
}

export function summarise(
  directory: string,
  findings: Finding[],
  options: Pick<ValidateOptions, 'failOn' | 'rules' | 'skipRules' | 'build' | 'againstRegistry'> & {
    verify?: boolean
    filesChecked: number
    built?: ValidateReport['build']
  },
): ValidateReport {
  const failOn = options.failOn ?? 'error'
  const counts: Record<Severity, number> = { error: 0, warning: 0, note: 0 }
  for (const f of findings) counts[f.severity]++
  const threshold = SEVERITY_RANK[failOn]
  return {
    directory,
    ok: !findings.some((f) => SEVERITY_RANK[f.severity] >= threshold),
    failOn,
    counts,
    filesChecked: options.filesChecked,
    rules: [...selectRules(options)],
    build: options.built ?? null,
    findings,
  }
}

async function requireKustomize(toolPath: string | undefined): Promise<KustomizeTool> {
  const tool = await findKustomize(toolPath)
  if (!tool) {
    throw new UserError('--build needs kustomize or kubectl on PATH, and neither was found', {
      hint: 'Install kubectl (its `kubectl kustomize` is enough) or kustomize, or run validate without --build.',
    })
  }
  return tool
}

/** The spec of a Helm repo (flavour: helm), else undefined; an unreadable spec is the spec rules' to report. */
async function helmRepo(dir: string): Promise<RepoSpec | undefined> {
  try {
    const spec = (await readSpec(dir))?.spec
    return spec?.flavour === 'helm' ? spec : undefined
  } catch {
    return undefined
  }
}

async function requireHelm(toolPath: string | undefined): Promise<string> {
  const helm = await findHelm(toolPath)
  if (!helm) {
    throw new UserError('--build on a Helm repo needs helm on PATH, and it was not found', {
      hint: 'Install Helm (v3 or v4), or run validate without --build.',
    })
  }
  return helm
}

/** A Helm repo's --build: `helm template` of the chart with each environment's values file. */
async function helmBuildFindings(
  dir: string,
  spec: RepoSpec,
  helm: string,
): Promise<{ findings: Finding[]; build: NonNullable<ValidateReport['build']> }> {
  const rule = ruleById('kustomize-build')!
  const findings: Finding[] = []
  for (const env of spec.environments) {
    const outcome = await buildHelmEnvironment(helm, dir, spec.app, env.name)
    if (outcome.ok) continue
    findings.push({
      rule: 'kustomize-build',
      severity: rule.severity,
      file: `environments/${env.name}/values.yaml`,
      line: null,
      column: null,
      message: `helm template ${spec.app} charts/${spec.app} -f environments/${env.name}/values.yaml failed: ${outcome.error.replaceAll(dir, '.')}`,
      hint: rule.hint,
    })
  }
  return { findings, build: { tool: helm, overlays: spec.environments.length } }
}

async function buildFindings(
  dir: string,
  tree: RepoTree,
  tool: KustomizeTool,
): Promise<{ findings: Finding[]; build: NonNullable<ValidateReport['build']> }> {
  const overlays = [...tree.dirs].filter((d) => /^environments\/[^/]+$/.test(d)).sort()
  const rule = ruleById('kustomize-build')!
  const findings: Finding[] = []
  // Two at a time: kustomize is CPU-bound and CI runners are small.
  for (let i = 0; i < overlays.length; i += 2) {
    const batch = overlays.slice(i, i + 2)
    const outcomes = await Promise.all(batch.map((overlay) => buildOverlay(tool, join(dir, overlay))))
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) return
      const overlay = batch[index]!
      const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
        .map((n) => `${overlay}/${n}`)
        .find((p) => tree.files.has(p))
      findings.push({
        rule: 'kustomize-build',
        severity: rule.severity,
        file: file ?? overlay,
        line: null,
        column: null,
        message: `${tool.name === 'kubectl' ? 'kubectl kustomize' : 'kustomize build'} ${overlay} failed: ${outcome.error.replaceAll(dir, '.')}`,
        hint: rule.hint,
      })
    })
  }
  return { findings, build: { tool: tool.path, overlays: overlays.length } }
}

/** Validate a GitOps repository on disk: read it (fs edge), run the pure checks, optionally build overlays. */
/** The spec's verify.keys and the --verify-key files, read through src/verify's one resolver; [] unless --against-registry. */
async function verifyKeys(dir: string, options: ValidateOptions) {
  if (!options.againstRegistry) return []
  let specKeys: readonly string[] | undefined
  try {
    specKeys = (await readSpec(dir))?.spec.verify?.keys
  } catch {
    // An unreadable spec is the spec rules' to report.
  }
  const flagFiles = options.verifyKeys ?? []
  if (!specKeys?.length && flagFiles.length === 0) return []
  const verify = await import('../verify/index.js')
  return verify.loadVerificationKeys(verify.repoKeySources(dir, specKeys, flagFiles))
}

export async function validateRepository(dir: string, options: ValidateOptions = {}): Promise<ValidateReport> {
  // Keys are read first: a bad key file is a usage error before any work.
  const keys = await verifyKeys(dir, options)
  const selected = selectRules({ ...options, verify: keys.length > 0 })
  const wantBuild = selected.has('kustomize-build')
  const helm = wantBuild ? await helmRepo(dir) : undefined
  // Fail before the work when --build cannot run.
  const tool = wantBuild && !helm ? await requireKustomize(options.toolPath) : undefined
  const helmTool = helm ? await requireHelm(options.toolPath) : undefined
  const tree = await readRepoTree(dir)
  const checkOptions: CheckOptions = {}
  if (options.rules) checkOptions.rules = options.rules
  if (options.skipRules) checkOptions.skipRules = options.skipRules
  if (options.renovate !== undefined) checkOptions.renovate = options.renovate
  let closeRegistry: (() => Promise<void>) | undefined
  let client: import('../registry/index.js').RegistryClient | undefined
  const registryClient = async () => {
    if (!client) {
      client = (await import('../registry/index.js')).createRegistryClient()
      const opened = client
      closeRegistry = () => opened.close()
    }
    return client
  }
  if (selected.has('image-drift') || selected.has('registry-lookup-failed')) {
    if (options.resolveDigest) checkOptions.resolveDigest = options.resolveDigest
    else {
      const registry = await registryClient()
      checkOptions.resolveDigest = async (reference) => (await registry.resolveDigest(reference)).digest
    }
  }
  if (selected.has('image-unsigned')) {
    const [{ checkSignature }, registry] = await Promise.all([import('../verify/index.js'), registryClient()])
    checkOptions.verifySignature = (image) => checkSignature(registry, image, keys)
  }
  let findings: Finding[]
  try {
    findings = await checkTree(tree, checkOptions)
  } finally {
    await closeRegistry?.()
  }
  let build: ValidateReport['build'] = null
  if (helm && helmTool) {
    const built = await helmBuildFindings(dir, helm, helmTool)
    findings.push(...built.findings)
    findings.sort(compareFindings)
    build = built.build
  }
  if (tool) {
    const built = await buildFindings(dir, tree, tool)
    findings.push(...built.findings)
    findings.sort(compareFindings)
    build = built.build
  }
  const filesChecked = [...tree.files.values()].filter((e) => e.kind !== 'other').length
  // Findings name files from the git top level, so `validate ./gitops` annotates gitops/renovate.json on GitHub.
  const prefix = await gitPrefix(dir)
  if (prefix) findings = findings.map((f) => ({ ...f, file: `${prefix}${f.file}` }))
  return summarise(dir, findings, { ...options, verify: keys.length > 0, filesChecked, built: build })
}

/** `gitops/` when DIR is gitops/ inside a git work tree; '' at the top, or outside git. */
async function gitPrefix(dir: string): Promise<string> {
  try {
    const top = await openRepo(dir).topLevel()
    if (!top) return ''
    const rel = relative(await realpath(top), await realpath(dir))
      .split(sep)
      .join('/')
    return rel === '' || rel.startsWith('..') ? '' : `${rel}/`
  } catch {
    return ''
  }
}
