import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { contentHash, LEDGER_FILE, parseLedger, planFiles, reconcile } from '../../src/scaffold/index.js'
import { type RepoSpec, repoSpec } from '../../src/spec/index.js'
import { shopSpec } from '../helpers/spec.js'

const spec: RepoSpec = shopSpec()

function plan(s: RepoSpec, files: Map<string, string> = new Map(), previous?: RepoSpec) {
  return planFiles({ spec: s, previous, readText: (p) => files.get(p), renovateConfig: '{}\n' })
}

function applyAll(files: Map<string, string>, changes: ReturnType<typeof reconcile>['changes']) {
  for (const change of changes) {
    if (change.action === 'delete') files.delete(change.path)
    else if (change.after !== undefined) files.set(change.path, change.after)
  }
}

describe('planFiles (pure)', () => {
  it('plans the issue layout from the spec alone', () => {
    const paths = plan(spec).map((f) => f.path)
    expect(paths.sort()).toEqual(
      [
        '.github/workflows/validate.yaml',
        'README.md',
        'argocd/applicationset.yaml',
        'components/api/base/deployment.yaml',
        'components/api/base/kustomization.yaml',
        'components/web/base/deployment.yaml',
        'components/web/base/kustomization.yaml',
        'components/web/base/service.yaml',
        'environments/dev/kustomization.yaml',
        'environments/prod/kustomization.yaml',
        'konflux-gitops.yaml',
        'renovate.json',
      ].sort(),
    )
    const api = parse(plan(spec).find((f) => f.path === 'components/api/base/deployment.yaml')!.content)
    expect(api.spec.template.spec.containers[0]).toEqual({ name: 'api', image: 'quay.io/acme/shop/api' })
  })

  it('ci none and argocd none leave those files out', () => {
    const paths = plan({ ...spec, ci: 'none', argocd: 'none' }).map((f) => f.path)
    expect(paths.some((p) => p.startsWith('argocd/') || p.startsWith('.github/'))).toBe(false)
  })

  it('README lists components and environments', () => {
    const readme = plan(spec).find((f) => f.path === 'README.md')!.content
    expect(readme).toContain('- `web`: `quay.io/acme/shop/web:released`, port 8080')
    expect(readme).toContain('- `dev`: namespace `shop-dev`, Renovate merges new digests on its own')
    expect(readme).toContain('- `prod`: namespace `shop-prod`, a reviewer merges')
  })
})

describe('reconcile: three-way per file', () => {
  it('creates, then leaves everything unchanged on a second pass', () => {
    const files = new Map<string, string>()
    const first = reconcile(plan(spec), (p) => files.get(p), parseLedger(undefined), { force: false })
    expect(first.changes.every((c) => c.action === 'create')).toBe(true)
    applyAll(files, first.changes)
    const second = reconcile(plan(spec, files), (p) => files.get(p), parseLedger(files.get(LEDGER_FILE)), {
      force: false,
    })
    expect(second.changes.filter((c) => c.action !== 'unchanged')).toEqual([])
  })

  it('an edited file is kept while the generated version is the same, and a conflict once it differs', () => {
    const files = new Map<string, string>()
    applyAll(files, reconcile(plan(spec), (p) => files.get(p), parseLedger(undefined), { force: false }).changes)
    const path = 'components/web/base/service.yaml'
    files.set(path, `${files.get(path)}# mine\n`)
    const ledger = parseLedger(files.get(LEDGER_FILE))
    const same = reconcile(plan(spec, files), (p) => files.get(p), ledger, { force: false })
    expect(same.changes.find((c) => c.path === path)!.action).toBe('unchanged')

    const moved = repoSpec.parse({ ...spec, components: [spec.components[0], { ...spec.components[1], port: 9090 }] })
    const clash = reconcile(plan(moved, files), (p) => files.get(p), ledger, { force: false })
    expect(clash.changes.find((c) => c.path === path)).toMatchObject({ action: 'conflict', after: undefined })
    expect(clash.ledger.files[path]).toBe(ledger.files[path])
    const forced = reconcile(plan(moved, files), (p) => files.get(p), ledger, { force: true })
    expect(forced.changes.find((c) => c.path === path)!.action).toBe('update')
  })

  it('a file that exists but was never generated is a conflict, not overwritten', () => {
    const files = new Map([['README.md', '# our own readme\n']])
    const result = reconcile(plan(spec, files), (p) => files.get(p), parseLedger(undefined), { force: false })
    expect(result.changes.find((c) => c.path === 'README.md')).toMatchObject({
      action: 'conflict',
      reason: 'exists but was not written by konflux-gitops',
    })
  })

  it('deletes what the spec no longer wants, keeping an edited file as a conflict', () => {
    const files = new Map<string, string>()
    applyAll(files, reconcile(plan(spec), (p) => files.get(p), parseLedger(undefined), { force: false }).changes)
    files.set('components/web/base/service.yaml', 'edited: true\n')
    const without = repoSpec.parse({ ...spec, components: [spec.components[0]] })
    const result = reconcile(plan(without, files, spec), (p) => files.get(p), parseLedger(files.get(LEDGER_FILE)), {
      force: false,
    })
    const by = (p: string) => result.changes.find((c) => c.path === p)?.action
    expect(by('components/web/base/deployment.yaml')).toBe('delete')
    expect(by('components/web/base/kustomization.yaml')).toBe('delete')
    expect(by('components/web/base/service.yaml')).toBe('conflict')
    const prod = result.changes.find((c) => c.path === 'environments/prod/kustomization.yaml')!
    expect(prod.after).not.toContain('shop/web')
    expect(contentHash('x')).toMatch(/^sha256:[0-9a-f]{64}$/)
  })
})
