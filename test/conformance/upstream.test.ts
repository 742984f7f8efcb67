/**
 * Every Konflux, Argo CD, Tekton and core Kubernetes object konflux-gitops generates, on every repo shape
 * (kustomize | helm) x (renovate | dependabot) and every Argo CD mode, validated against the upstream schema with
 * unknown fields as errors (test/helpers/upstream.ts). Real init, integration test wiring, releaseplan, and the
 * manifests kubectl kustomize / helm template build from what init wrote.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { kubeTools } from '../harness/kube-tools.js'
import { expectExit, ROOT, runCli, withTempDir } from '../helpers/cli.js'
import { SHOP_INIT_ARGS } from '../helpers/spec.js'
import { upstreamErrors } from '../helpers/upstream.js'

const run = promisify(execFile)

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate', argocd: 'applicationset' },
  { flavour: 'kustomize', updater: 'dependabot', argocd: 'applications' },
  { flavour: 'helm', updater: 'renovate', argocd: 'applications' },
  { flavour: 'helm', updater: 'dependabot', argocd: 'applicationset' },
] as const

interface Checked {
  where: string
  kind: string
  errors: string[] | undefined
}

function check(text: string, where: string): Checked[] {
  const out: Checked[] = []
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) continue
    const object = doc.toJS() as { apiVersion?: string; kind?: string } | null
    if (!object?.apiVersion || !object.kind) continue
    out.push({ where, kind: `${object.apiVersion}/${object.kind}`, errors: upstreamErrors(object) })
  }
  return out
}

async function yamlFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name) || path.includes('/.git/')) continue
    // Helm templates are Go templates; what they produce is checked through helm template below.
    if (path.includes('/templates/')) continue
    found.push(path)
  }
  return found
}

describe.each(SHAPES)('generated objects on $flavour + $updater (argocd $argocd)', ({ flavour, updater, argocd }) => {
  it('validate against the upstream schemas, unknown fields being errors', async () => {
    await withTempDir(async (tmp) => {
      const dir = join(tmp, 'repo')
      const init = await runCli([
        'init',
        dir,
        ...SHOP_INIT_ARGS,
        '--flavour',
        flavour,
        '--updater',
        updater,
        '--argocd',
        argocd,
        '--git-remote',
        'git@github.com:acme/shop-gitops.git',
        '--integration-test',
      ])
      expectExit(init, 0)
      const checked: Checked[] = []
      const files = await yamlFiles(dir)
      // Kustomize patches are partial objects by design: the built overlays below check what they produce.
      const patches = new Set<string>()
      for (const file of files.filter((f) => /kustomization\.ya?ml$/.test(f))) {
        const kustomization = parse(await readFile(file, 'utf8')) as {
          patches?: ({ path?: string } | string)[]
          patchesStrategicMerge?: string[]
        } | null
        for (const patch of [...(kustomization?.patches ?? []), ...(kustomization?.patchesStrategicMerge ?? [])]) {
          const path = typeof patch === 'string' ? patch : patch.path
          if (path) patches.add(join(dirname(file), path))
        }
      }
      for (const file of files.filter((f) => !patches.has(f))) {
        checked.push(...check(await readFile(file, 'utf8'), relative(dir, file)))
      }

      // What the cluster gets: the environment overlays built.
      const { kubectl, helm } = await kubeTools()
      for (const env of ['dev', 'prod']) {
        const built =
          flavour === 'kustomize'
            ? await run(kubectl, ['kustomize', join(dir, 'environments', env)])
            : await run(helm, [
                'template',
                'shop',
                join(dir, 'charts', 'shop'),
                '-f',
                join(dir, 'environments', env, 'values.yaml'),
              ])
        checked.push(...check(built.stdout, `${env} (built)`))
      }
      const kinds = new Set(checked.map((c) => c.kind))
      expect([...kinds].sort()).toEqual(
        expect.arrayContaining([
          'appstudio.redhat.com/v1beta2/IntegrationTestScenario',
          'tekton.dev/v1/Pipeline',
          'apps/v1/Deployment',
          'v1/Service',
          argocd === 'applicationset' ? 'argoproj.io/v1alpha1/ApplicationSet' : 'argoproj.io/v1alpha1/Application',
        ]),
      )
      const invalid = checked.filter((c) => c.errors && c.errors.length > 0)
      expect(invalid.map((c) => `${c.where} ${c.kind}: ${c.errors!.join('; ')}`)).toEqual([])
      // Every object konflux-gitops writes of an upstream group has an upstream schema here.
      const unknown = checked.filter(
        (c) => c.errors === undefined && /appstudio|argoproj|tekton|^v1\/|apps\/v1|rbac/.test(c.kind),
      )
      expect(unknown.map((c) => `${c.where} ${c.kind}`)).toEqual([])
    })
  })
})

describe('releaseplan objects', () => {
  it.each([
    ['--application', 'shop'],
    ['--component-group', 'shop-group'],
  ])('%s %s: ReleasePlan, ServiceAccount, Role, RoleBinding and Pipeline validate upstream', async (flag, name) => {
    const result = await runCli(['releaseplan', flag, name, '--namespace', 'acme-tenant', '--tag', 'released'])
    expectExit(result, 0)
    const checked = check(result.stdout, 'releaseplan')
    expect(checked.map((c) => c.kind)).toEqual([
      'appstudio.redhat.com/v1alpha1/ReleasePlan',
      'v1/ServiceAccount',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      'tekton.dev/v1/Pipeline',
    ])
    expect(checked.filter((c) => c.errors?.length).map((c) => `${c.kind}: ${c.errors!.join('; ')}`)).toEqual([])
  })
})

describe('the releaser deployment (deploy/)', () => {
  it.each(['deploy', 'deploy/replicas'])('kubectl kustomize %s: every core object validates upstream', async (path) => {
    const { kubectl } = await kubeTools()
    const built = await run(kubectl, ['kustomize', join(ROOT, path)])
    const checked = check(built.stdout, path)
    expect(checked.some((c) => c.kind === 'apps/v1/Deployment')).toBe(true)
    expect(checked.filter((c) => c.errors?.length).map((c) => `${c.kind}: ${c.errors!.join('; ')}`)).toEqual([])
    // Only the Prometheus Operator's ServiceMonitor has no upstream schema here.
    expect(checked.filter((c) => c.errors === undefined).map((c) => c.kind)).toEqual(
      path === 'deploy/replicas' ? ['monitoring.coreos.com/v1/ServiceMonitor'] : [],
    )
  })
})

describe('the Konflux fixtures tests read are objects the API server accepts', () => {
  it.each(['snapshot-passed.yaml', 'snapshot-failed.yaml', 'releaseplan-mapping.yaml'])('%s', async (file) => {
    const checked = check(await readFile(join(ROOT, 'test', 'fixtures', 'konflux', file), 'utf8'), file)
    expect(checked).toHaveLength(1)
    expect(checked[0]!.errors).toEqual([])
  })
})

describe('the validator itself', () => {
  it('refuses an unknown field, a wrong type and a misplaced field in an embedded task', () => {
    expect(
      upstreamErrors({
        apiVersion: 'appstudio.redhat.com/v1alpha1',
        kind: 'ReleasePlan',
        metadata: { name: 'x', lables: {} },
        spec: { application: 'shop', autoRelease: true },
      }),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/lables/), expect.stringMatching(/autoRelease/)]))
    expect(
      upstreamErrors({
        apiVersion: 'tekton.dev/v1',
        kind: 'Pipeline',
        metadata: { name: 'p' },
        spec: { tasks: [{ name: 't', taskSpec: { steps: [{ name: 's', image: 'x', scirpt: 'echo' }] } }] },
      }),
    ).toEqual([expect.stringMatching(/\/spec\/tasks\/0\/taskSpec\/steps\/0 .*scirpt/)])
    expect(
      upstreamErrors({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: '80' }] } }),
    ).toEqual([expect.stringMatching(/port must be integer/)])
    expect(upstreamErrors({ apiVersion: 'example.com/v1', kind: 'Thing' })).toBeUndefined()
  })
})
