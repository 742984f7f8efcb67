import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { renovateConfigForRepo } from '../../src/presets/index.js'
import { LEDGER_FILE, parseLedger, planFiles, reconcile } from '../../src/scaffold/index.js'
import { DNS_LABEL, type RepoSpec, repoSpec } from '../../src/spec/index.js'
import { checkTree, memoryTree } from '../../src/validate/index.js'

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter((s) => DNS_LABEL.test(s) && !s.includes('--'))
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`)

const specArb = fc
  .record({
    app: label,
    tag: fc.constantFrom('released', 'stable', 'v1'),
    argocd: fc.constantFrom('applicationset', 'applications', 'none'),
    ci: fc.constantFrom('github', 'none'),
    // Every shape (issue 10): kustomize images:, manifest patches for Dependabot, Helm values for either updater.
    flavour: fc.constantFrom('kustomize', 'helm'),
    updater: fc.constantFrom('renovate', 'dependabot'),
    components: fc.uniqueArray(
      fc.record({
        name: label,
        image: fc.constantFrom('quay.io/acme', 'registry.example.com:5000/team', 'quay.io/redhat-user-workloads/t'),
        port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 4, selector: (c) => c.name },
    ),
    environments: fc.uniqueArray(
      fc.record({
        name: label,
        namespace: fc.option(label, { nil: undefined }),
        autoMerge: fc.option(fc.boolean(), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 4, selector: (e) => e.name },
    ),
    pinned: fc.boolean(),
    digest,
  })
  .map(({ pinned, digest: d, ...raw }) => {
    const spec: RepoSpec = repoSpec.parse({
      apiVersion: 'konflux-gitops.dev/v1alpha1',
      kind: 'GitOpsRepo',
      ...raw,
      repoURL: 'https://github.com/acme/shop-gitops.git',
      components: raw.components.map((c) => ({
        name: c.name,
        image: `${c.image}/${c.name}`,
        ...(c.port === undefined ? {} : { port: c.port }),
      })),
      environments: raw.environments.map((e) =>
        Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)),
      ),
    })
    return { spec, pins: pinned ? new Map(spec.components.map((c) => [c.name, d])) : undefined }
  })

function generate(spec: RepoSpec, pins?: Map<string, string>): Record<string, string> {
  const files = new Map<string, string>()
  const desired = planFiles({
    spec,
    readText: () => undefined,
    ...(pins ? { pins } : {}),
    renovateConfig: `${JSON.stringify(renovateConfigForRepo(spec), null, 2)}\n`,
  })
  for (const change of reconcile(desired, () => undefined, parseLedger(undefined), { force: false }).changes) {
    if (change.after !== undefined) files.set(change.path, change.after)
  }
  expect(files.has(LEDGER_FILE)).toBe(true)
  return Object.fromEntries(files)
}

describe('property: any valid spec gives a repo that validate accepts', () => {
  it('no error findings (Renovate config checked in-process too)', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async ({ spec, pins }) => {
        const findings = await checkTree(memoryTree(generate(spec, pins)))
        const errors = findings.filter((f) => f.severity === 'error')
        expect(errors, JSON.stringify(errors, null, 1)).toEqual([])
      }),
      { numRuns: 25 },
    )
  })
  it('and the same check does catch a broken tree (newTag beside digest)', async () => {
    const { spec } = fc.sample(specArb, { numRuns: 1, seed: 7 })[0]!
    const files = generate(spec)
    const env = `environments/${spec.environments[0]!.name}/kustomization.yaml`
    files[env] = files[env]!.replace(/newTag: (\S+)/, `newTag: $1\n    digest: sha256:${'c'.repeat(64)}`)
    const findings = await checkTree(memoryTree(files))
    expect(findings.some((f) => f.severity === 'error' && f.file === env)).toBe(true)
  })
})
