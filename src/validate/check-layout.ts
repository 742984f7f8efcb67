import { type RepoSpec, repoSpec, SPEC_FILE } from '../spec/index.js'
import type { CheckContext } from './context.js'
import { locate, type ParsedFile } from './yaml-docs.js'

export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const

/** The parsed kustomization files of the tree, by path. */
export function* kustomizationFiles(ctx: Pick<CheckContext, 'yaml'>): Generator<[string, ParsedFile]> {
  for (const [path, file] of ctx.yaml) {
    const name = path.slice(path.lastIndexOf('/') + 1)
    if ((KUSTOMIZATION_NAMES as readonly string[]).includes(name)) yield [path, file]
  }
}

export function kustomizationIn(ctx: Pick<CheckContext, 'tree'>, dir: string): string | undefined {
  for (const name of KUSTOMIZATION_NAMES) {
    const path = dir === '' ? name : `${dir}/${name}`
    if (ctx.tree.files.has(path)) return path
  }
  return undefined
}

/** Read and check konflux-gitops.yaml; the spec drives the other checks, so this runs first. */
export function checkSpec(ctx: Omit<CheckContext, 'spec'>): RepoSpec | undefined {
  const entry = ctx.tree.files.get(SPEC_FILE)
  if (!entry) {
    ctx.report('spec-missing', SPEC_FILE, null, `${SPEC_FILE} not found at the repository root`)
    return undefined
  }
  const file: ParsedFile | undefined = ctx.yaml.get(SPEC_FILE)
  // Unreadable files and YAML errors were already reported by the file and YAML checks.
  if (!file || file.problems.length > 0) return undefined
  const value = file.docs[0]?.value
  if (file.docs.length !== 1) {
    ctx.report('spec-invalid', SPEC_FILE, locate(file, 1, []), `${SPEC_FILE} must hold exactly one YAML document`)
    return undefined
  }
  const result = repoSpec.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    const where = path.length > 0 ? path.join('.') : '(top level)'
    ctx.report('spec-invalid', SPEC_FILE, locate(file, 0, path), `${where}: ${issue.message}`)
  }
  return undefined
}

export function checkLayout(ctx: CheckContext): void {
  const spec = ctx.spec
  if (!spec) return
  const specFile = ctx.yaml.get(SPEC_FILE)
  const helm = spec.flavour === 'helm'
  spec.components.forEach((component, index) => {
    const base = `components/${component.name}/base`
    // A Helm repo has no per-component base: the chart's templates range over the components.
    if (!helm && !kustomizationIn(ctx, base)) {
      ctx.report(
        'component-base-missing',
        SPEC_FILE,
        locate(specFile, 0, ['components', index, 'name']),
        `component "${component.name}" has no ${base}/kustomization.yaml`,
      )
    }
  })
  spec.environments.forEach((environment, index) => {
    const dir = `environments/${environment.name}`
    const present = helm ? ctx.tree.files.has(`${dir}/values.yaml`) : kustomizationIn(ctx, dir) !== undefined
    if (!present) {
      ctx.report(
        'environment-missing',
        SPEC_FILE,
        locate(specFile, 0, ['environments', index, 'name']),
        `environment "${environment.name}" has no ${dir}/${helm ? 'values.yaml' : 'kustomization.yaml'}`,
      )
    }
  })
  if (!ctx.enabled('stray-overlay')) return
  const environments = new Set(spec.environments.map((e) => e.name))
  const components = new Set(spec.components.map((c) => c.name))
  for (const dir of ctx.tree.dirs) {
    const env = /^environments\/([^/]+)$/.exec(dir)?.[1]
    if (env !== undefined && !environments.has(env)) {
      const file =
        kustomizationIn(ctx, dir) ?? (ctx.tree.files.has(`${dir}/values.yaml`) ? `${dir}/values.yaml` : undefined)
      ctx.report(
        'stray-overlay',
        file ?? dir,
        file ? { line: 1, column: 1 } : null,
        `${dir} is not an environment in ${SPEC_FILE}; an ApplicationSet over environments/* still deploys it`,
      )
    }
    const component = /^components\/([^/]+)$/.exec(dir)?.[1]
    if (component !== undefined && !components.has(component)) {
      const file = kustomizationIn(ctx, `${dir}/base`)
      ctx.report(
        'stray-overlay',
        file ?? dir,
        file ? { line: 1, column: 1 } : null,
        `${dir} is not a component in ${SPEC_FILE}`,
      )
    }
  }
}
