import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { digestOf, kubectlBinDir, makeGitOpsRepo, snapshotYaml } from './gitops-fixture.js'

const run = promisify(execFile)
let PATH_WITH_KUBECTL = ''
beforeAll(async () => {
  PATH_WITH_KUBECTL = `${await kubectlBinDir()}${delimiter}${process.env.PATH}`
})

const STAGE_PINS = { api: digestOf('1'), web: digestOf('2') }

function deployedImages(manifests: string): Record<string, string> {
  const images: Record<string, string> = {}
  for (const doc of parseAllDocuments(manifests)) {
    const object = doc.toJS() as {
      kind: string
      metadata: { name: string; namespace?: string }
      spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } }
    }
    if (object?.kind !== 'Deployment') continue
    images[object.metadata.name] = object.spec!.template!.spec!.containers![0]!.image
  }
  return images
}

function namespaces(manifests: string): string[] {
  return [
    ...new Set(
      parseAllDocuments(manifests).map(
        (doc) => (doc.toJS() as { metadata: { namespace?: string } }).metadata.namespace ?? '',
      ),
    ),
  ]
}

describe('render --snapshot', () => {
  it('builds manifests that carry exactly the Snapshot digests, other components at their pins, in the given namespace', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS, prod: {} } })
      const snapshotFile = join(dir, 'snap.yaml')
      const newApi = digestOf('a')
      await writeFile(
        snapshotFile,
        snapshotYaml('shop-abc', [{ name: 'api', image: `quay.io/acme/shop/api@${newApi}` }]),
      )
      const result = await runCli(
        ['render', '--snapshot', snapshotFile, '--env', 'stage', '--namespace', 'pr-42', '--build', dir],
        { env: { PATH: PATH_WITH_KUBECTL } },
      )
      expect(result.stderr).not.toContain('Error')
      expect(result.exitCode).toBe(0)
      expect(deployedImages(result.stdout)).toEqual({
        api: `quay.io/acme/shop/api@${newApi}`,
        web: `quay.io/acme/shop/web:released@${STAGE_PINS.web}`,
      })
      expect(namespaces(result.stdout)).toEqual(['pr-42'])
    })
  })

  it('accepts the SNAPSHOT parameter form (spec JSON) inline and builds on the bases without --env', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS } })
      const param = JSON.stringify({
        application: 'shop',
        components: [
          { name: 'api', containerImage: `quay.io/acme/shop/api@${digestOf('b')}` },
          { name: 'web', containerImage: `quay.io/acme/shop/web@${digestOf('c')}` },
        ],
      })
      const result = await runCli(['render', '--snapshot', param, '--build', dir], {
        env: { PATH: PATH_WITH_KUBECTL },
      })
      expect(result.exitCode).toBe(0)
      expect(deployedImages(result.stdout)).toEqual({
        api: `quay.io/acme/shop/api@${digestOf('b')}`,
        web: `quay.io/acme/shop/web@${digestOf('c')}`,
      })
    })
  })

  it('writes an overlay kubectl understands to --out, reads stdin, and matches its --json schema', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS } })
      const out = join(dir, 'rendered')
      const snapshot = snapshotYaml('shop-def', [{ name: 'web', image: `quay.io/acme/shop/web@${digestOf('d')}` }])
      const result = await runCli(['render', '--snapshot', '-', '--env', 'stage', '--out', out, '--json', dir], {
        input: snapshot,
      })
      expect(result.exitCode).toBe(0)
      expect(await schemaErrors('render', result.json)).toEqual([])
      const json = result.json as { out: string; images: Array<{ component: string; source: string; image: string }> }
      expect(json.out).toBe(out)
      expect(json.images).toEqual([
        {
          component: 'web',
          repository: 'quay.io/acme/shop/web',
          image: `quay.io/acme/shop/web@${digestOf('d')}`,
          digest: digestOf('d'),
          source: 'snapshot',
        },
        {
          component: 'api',
          repository: 'quay.io/acme/shop/api',
          image: `quay.io/acme/shop/api:released@${STAGE_PINS.api}`,
          digest: STAGE_PINS.api,
          source: 'pin',
        },
      ])
      // What `kubectl apply -k` would deploy:
      const { stdout: built } = await run(join(await kubectlBinDir(), 'kubectl'), ['kustomize', out])
      expect(deployedImages(built)).toEqual({
        api: `quay.io/acme/shop/api:released@${STAGE_PINS.api}`,
        web: `quay.io/acme/shop/web@${digestOf('d')}`,
      })
      const kustomization = await readFile(join(out, 'kustomization.yaml'), 'utf8')
      expect(kustomization).toContain('../environments/stage')
      // A second render into the same folder replaces its own overlay.
      const again = await runCli(['render', '--snapshot', '-', '--env', 'stage', '--out', out, dir], {
        input: snapshot,
      })
      expect(again.exitCode).toBe(0)
      expect(again.stdout.trim()).toBe(out)
    })
  })

  it('refuses a Snapshot component the repo does not know, and skips it with --allow-unknown', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS } })
      const snapshot = snapshotYaml('shop-x', [
        { name: 'api', image: `quay.io/acme/shop/api@${digestOf('e')}` },
        { name: 'worker', image: `quay.io/acme/shop/worker@${digestOf('f')}` },
      ])
      const refused = await runCli(['render', '--snapshot', '-', '--env', 'stage', dir], { input: snapshot })
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toContain('Snapshot component "worker"')
      expect(refused.stderr).toContain('--allow-unknown')
      const allowed = await runCli(['render', '--snapshot', '-', '--env', 'stage', '--allow-unknown', '--build', dir], {
        input: snapshot,
        env: { PATH: PATH_WITH_KUBECTL },
      })
      expect(allowed.exitCode).toBe(0)
      expect(allowed.stderr).toContain('Warning: Snapshot component "worker"')
      expect(deployedImages(allowed.stdout).api).toBe(`quay.io/acme/shop/api@${digestOf('e')}`)
    })
  })

  it('refuses a component whose Snapshot image repository differs; --allow-unknown deploys the Snapshot image', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS } })
      const snapshot = snapshotYaml('shop-y', [
        { name: 'api', image: `quay.io/redhat-user-workloads/acme-tenant/api@${digestOf('9')}` },
      ])
      const refused = await runCli(['render', '--snapshot', '-', '--env', 'stage', dir], { input: snapshot })
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toContain('differs from the repo')
      const allowed = await runCli(['render', '--snapshot', '-', '--env', 'stage', '--allow-unknown', '--build', dir], {
        input: snapshot,
        env: { PATH: PATH_WITH_KUBECTL },
      })
      expect(allowed.exitCode).toBe(0)
      expect(deployedImages(allowed.stdout).api).toBe(`quay.io/redhat-user-workloads/acme-tenant/api@${digestOf('9')}`)
    })
  })

  it('names the problem for a missing Snapshot file, an unknown environment and an overlay folder it did not write', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE_PINS } })
      const missing = await runCli(['render', '--snapshot', join(dir, 'nope.yaml'), dir])
      expect(missing.exitCode).toBe(2)
      expect(missing.stderr).toContain('nope.yaml')
      const snapshot = snapshotYaml('s', [{ name: 'api', image: `quay.io/acme/shop/api@${digestOf('1')}` }])
      const unknownEnv = await runCli(['render', '--snapshot', '-', '--env', 'qa', dir], { input: snapshot })
      expect(unknownEnv.exitCode).toBe(2)
      expect(unknownEnv.stderr).toContain('environment "qa"')
      expect(unknownEnv.stderr).toContain('stage')
      const userOverlay = join(dir, 'mine')
      await makeGitOpsRepo(userOverlay)
      await writeFile(join(userOverlay, 'kustomization.yaml'), 'resources: []\n')
      const refused = await runCli(['render', '--snapshot', '-', '--out', userOverlay, dir], { input: snapshot })
      expect(refused.exitCode).toBe(1)
      expect(await readFile(join(userOverlay, 'kustomization.yaml'), 'utf8')).toBe('resources: []\n')
    })
  })
})
