import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { kubeTools } from '../harness/kube-tools.js'
import { ROOT, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { commitCount, type Loose, read, validateArgoObject, validateKubernetesObjects } from '../init/repo-checks.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const API = 'quay.io/redhat-user-workloads/acme-tenant/shop/api'
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'

async function helmTemplate(repo: string, env: string): Promise<string> {
  const { helm } = await kubeTools()
  const { stdout } = await run(helm, [
    'template',
    'shop',
    join(repo, 'charts', 'shop'),
    '-f',
    join(repo, 'environments', env, 'values.yaml'),
  ])
  return stdout
}

describe('init --flavour helm', () => {
  it('writes a chart and per-environment values that Helm 4 renders with each pinned image; a re-run changes nothing', async () => {
    await withTempDir(async (tmp) => {
      const first = await runCli(
        ['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', 'helm', '--json'],
        { cwd: tmp },
      )
      expect(first.exitCode, first.stderr + first.stdout).toBe(0)
      expect(await schemaErrors('init', first.json)).toEqual([])
      const repo = join(tmp, 'demo')
      const values = parse(await read(repo, 'environments/stage/values.yaml')) as Loose
      expect(values.components.api.image).toEqual({ repository: API, tag: `released@${API_DIGEST}` })
      // The digest sits in a quoted tag, the form Renovate's helm-values manager and Dependabot both read.
      expect(await read(repo, 'environments/stage/values.yaml')).toContain(`tag: "released@${API_DIGEST}"`)
      // No pin in the chart's own values.
      const chartValues = parse(await read(repo, 'charts/shop/values.yaml')) as Loose
      expect(chartValues.components).toEqual({ api: {}, web: {} })
      for (const env of ['dev', 'stage', 'prod']) {
        const objects = validateKubernetesObjects(await helmTemplate(repo, env))
        const api = objects.find((o) => o.kind === 'Deployment' && o.name === 'api')!
        expect(api.object.spec.template.spec.containers[0].image).toBe(`${API}:released@${API_DIGEST}`)
        expect(objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(['Deployment/api', 'Deployment/web'])
      }
      const appset = validateArgoObject(await read(repo, 'argocd/applicationset.yaml'))
      expect(appset.spec.template.spec.sources).toEqual([
        expect.objectContaining({
          path: 'charts/shop',
          helm: { releaseName: 'shop', valueFiles: ['$values/{{ .path.path }}/values.yaml'] },
        }),
        expect.objectContaining({ ref: 'values' }),
      ])
      const renovate = JSON.parse(await read(repo, 'renovate.json'))
      expect(renovate['helm-values'].managerFilePatterns.join()).toContain('environments')

      const validate = await runCli(['validate', repo])
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0)

      const commits = await commitCount(repo)
      const again = await runCli(['init', 'demo', '--json'], { cwd: tmp })
      expect(again.exitCode).toBe(0)
      expect((again.json as Loose).created).toEqual([])
      expect((again.json as Loose).updated).toEqual([])
      expect(await commitCount(repo)).toBe(commits)
    })
  })

  it('--argocd applications writes multi-source Applications with the $values reference', async () => {
    await withTempDir(async (tmp) => {
      const result = await runCli(
        ['init', 'demo', '--from-snapshot', SNAPSHOT, '--flavour', 'helm', '--argocd', 'applications'],
        { cwd: tmp },
      )
      expect(result.exitCode, result.stderr).toBe(0)
      const app = validateArgoObject(await read(join(tmp, 'demo'), 'argocd/prod.yaml'))
      expect(app.spec.sources[0].helm.valueFiles).toEqual(['$values/environments/prod/values.yaml'])
      expect(app.spec.destination.namespace).toBe('shop-prod')
    })
  })

  it('validate --build runs helm template per environment and names the values file that breaks it', async () => {
    await withTempDir(async (tmp) => {
      const result = await runCli(['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', 'helm'], {
        cwd: tmp,
      })
      expect(result.exitCode, result.stderr).toBe(0)
      const repo = join(tmp, 'demo')
      const { helm } = await kubeTools()
      const env = { PATH: `${dirname(helm)}:${process.env.PATH}` }
      const clean = await runCli(['validate', repo, '--build', '--json'], { env })
      expect(clean.exitCode, clean.stdout).toBe(0)
      expect((clean.json as Loose).build).toEqual({ tool: helm, overlays: 3 })
      const values = await read(repo, 'environments/prod/values.yaml')
      await writeFile(join(repo, 'environments/prod/values.yaml'), values.replace(`repository: ${API}`, 'repo: x'))
      const broken = await runCli(['validate', repo, '--build', '--json'], { env })
      expect(broken.exitCode).toBe(1)
      // The static check names the entry; helm template fails on it too.
      expect((broken.json as Loose).findings).toEqual([
        expect.objectContaining({
          rule: 'kustomize-build',
          file: 'environments/prod/values.yaml',
          message: expect.stringContaining('components.api.image.repository is not set'),
        }),
        expect.objectContaining({
          rule: 'helm-values-invalid',
          file: 'environments/prod/values.yaml',
          line: values.split('\n').findIndex((l) => l.trimStart().startsWith('image:')) + 1,
        }),
      ])
    })
  })

  it('switching only the updater keeps the pins (both read values files): renovate.json out, dependabot.yml in', async () => {
    await withTempDir(async (tmp) => {
      const first = await runCli(['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', 'helm'], {
        cwd: tmp,
      })
      expect(first.exitCode, first.stderr).toBe(0)
      const repo = join(tmp, 'demo')
      const before = await read(repo, 'environments/prod/values.yaml')
      const second = await runCli(['init', 'demo', '--updater', 'dependabot', '--json'], { cwd: tmp })
      expect(second.exitCode, second.stderr).toBe(0)
      expect((second.json as Loose).deleted).toEqual(['renovate.json'])
      expect((second.json as Loose).created).toEqual(
        expect.arrayContaining(['.github/dependabot.yml', '.github/workflows/dependabot-auto-merge.yaml']),
      )
      const after = await read(repo, 'environments/prod/values.yaml')
      expect(parse(after).components).toEqual(parse(before).components)
      const validate = await runCli(['validate', repo])
      expect(validate.exitCode, validate.stdout).toBe(0)
    })
  })

  it('integration add on a Helm repo writes the same scenario and pipeline as on a kustomize repo, and validate passes', async () => {
    await withTempDir(async (tmp) => {
      const written: Record<string, string[]> = {}
      for (const flavour of ['kustomize', 'helm']) {
        const first = await runCli(['init', flavour, '--from-snapshot', SNAPSHOT, '--flavour', flavour], { cwd: tmp })
        expect(first.exitCode, first.stderr).toBe(0)
        const repo = join(tmp, flavour)
        const result = await runCli(['integration', 'add', repo, '--repo-url', 'https://example.com/x.git', '--json'])
        expect(result.exitCode, result.stderr).toBe(0)
        expect((result.json as Loose).created).toEqual(
          expect.arrayContaining([
            'integration/integration-test-scenario.yaml',
            'integration/pipelines/deploy-and-test.yaml',
          ]),
        )
        expect(await read(repo, 'konflux-gitops.yaml')).toContain('integrationTest: {}')
        written[flavour] = [
          await read(repo, 'integration/integration-test-scenario.yaml'),
          await read(repo, 'integration/pipelines/deploy-and-test.yaml'),
        ]
        const validate = await runCli(['validate', repo])
        expect(validate.exitCode, validate.stdout).toBe(0)
      }
      // One pipeline for every shape: its deploy step is `konflux-gitops render --build`, which runs helm template here.
      expect(written.helm).toEqual(written.kustomize)
      expect(written.helm![1]).toContain('konflux-gitops render --snapshot "$SNAPSHOT"')
    })
  })
})
