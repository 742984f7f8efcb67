import { describe, expect, it } from 'vitest'
import { checkTree, formatText, memoryTree, summarise } from '../../src/validate/index.js'
import { cleanRepo } from './clean-repo.js'

const application = (repoURL: string, path: string) => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: extra
  namespace: argocd
spec:
  project: default
  source:
    repoURL: ${repoURL}
    targetRevision: HEAD
    path: ${path}
  destination:
    server: https://kubernetes.default.svc
    namespace: extra
`

describe('validate core (in memory)', () => {
  it('checks Application paths in this repo only, once the spec names it', async () => {
    const files = cleanRepo()
    files['konflux-gitops.yaml'] += 'repoURL: https://github.com/acme/shop-gitops.git\n'
    files['argocd/other.yaml'] = application('https://github.com/acme/platform.git', 'clusters/prod')
    files['argocd/ours.yaml'] = application('https://github.com/ACME/shop-gitops', 'environments/qa')
    const findings = await checkTree(memoryTree(files), { renovate: null })
    expect(findings.map((f) => [f.rule, f.file, f.line])).toEqual([['argocd-path-missing', 'argocd/ours.yaml', 11]])
  })

  it('text output is coloured only when asked (a terminal), and plain otherwise', async () => {
    const files = cleanRepo()
    files['environments/dev/kustomization.yaml'] = String(files['environments/dev/kustomization.yaml']).replace(
      'newTag: released',
      'newTag: latest',
    )
    const findings = await checkTree(memoryTree(files), { renovate: null })
    const report = summarise('.', findings, { filesChecked: 12 })
    expect(formatText(report, { colour: true })).toContain('\u001b[31merror')
    const plain = formatText(report, { colour: false })
    expect(plain).not.toContain('\u001b[')
    expect(plain).toContain('✖ 1 error, 0 warnings in 1 file (fails on error)')
  })
})
