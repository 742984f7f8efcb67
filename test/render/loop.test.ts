/**
 * The whole loop of issue 8 on real parts: a real registry (token auth, TLS), `release` moving `:released`,
 * `init --pin` writing the repo, real kustomize building what `render` wrote, `status --against-registry`
 * noticing the moved tag, and `promote` copying stage's pins to prod.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { expectExit, runCli, withTempDir } from '../helpers/cli.js'
import { git, kubectlBinDir } from './gitops-fixture.js'

function passedSnapshot(name: string, images: Record<string, string>): string {
  return [
    'apiVersion: appstudio.redhat.com/v1alpha1',
    'kind: Snapshot',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    '    pac.test.appstudio.openshift.io/event-type: push',
    'spec:',
    '  application: shop',
    '  components:',
    ...Object.entries(images).flatMap(([component, image]) => [
      `    - name: ${component}`,
      `      containerImage: ${image}`,
    ]),
    'status:',
    '  conditions:',
    '    - type: AppStudioTestSucceeded',
    '      status: "True"',
    '      reason: Passed',
    '',
  ].join('\n')
}

function deployedImages(manifests: string): Record<string, string> {
  const images: Record<string, string> = {}
  for (const doc of parseAllDocuments(manifests)) {
    const object = doc.toJS() as {
      kind: string
      metadata: { name: string }
      spec: { template: { spec: { containers: Array<{ image: string }> } } }
    }
    if (object.kind === 'Deployment') images[object.metadata.name] = object.spec.template.spec.containers[0]!.image
  }
  return images
}

describe('the deployment loop on real parts', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('renders a Snapshot exactly, sees the tag move after release, and promotes stage to prod once', async () => {
    await withTempDir(async (root) => {
      const env = { ...reg.env, PATH: `${await kubectlBinDir()}${delimiter}${process.env.PATH}` }
      const api = `${reg.host}/acme/shop/api`
      const web = `${reg.host}/acme/shop/web`
      const apiV1 = await reg.pushImage('acme/shop/api', 'build-1')
      const webV1 = await reg.pushImage('acme/shop/web', 'build-1', { platforms: ['linux/amd64', 'linux/arm64'] })
      const first = join(root, 'first.yaml')
      await writeFile(first, passedSnapshot('shop-1', { api: `${api}@${apiV1}`, web: `${web}@${webV1}` }))
      expectExit(await runCli(['release', '--snapshot', first], { env }), 0)

      const repo = join(root, 'shop-gitops')
      const init = await runCli(
        [
          'init',
          repo,
          '--app',
          'shop',
          '--component',
          `api=${api}`,
          '--component',
          `web=${web}:8080`,
          '--pin',
          '--ci',
          'none',
        ],
        { env },
      )
      expectExit(init, 0)

      // A new build of api, tested in an ephemeral namespace: render puts exactly its digest on top of stage.
      const apiV2 = await reg.pushImage('acme/shop/api', 'build-2')
      const second = join(root, 'second.yaml')
      await writeFile(second, passedSnapshot('shop-2', { api: `${api}@${apiV2}` }))
      const rendered = await runCli(
        ['render', '--snapshot', second, '--env', 'stage', '--namespace', 'pr-7', '--build', repo],
        {
          env,
        },
      )
      expectExit(rendered, 0)
      expect(deployedImages(rendered.stdout)).toEqual({ api: `${api}@${apiV2}`, web: `${web}:released@${webV1}` })

      const current = await runCli(['status', '--against-registry', repo], { env })
      expectExit(current, 0)

      // Tests passed: release moves :released; every environment's api pin is now behind its tag.
      expectExit(await runCli(['release', '--snapshot', second], { env }), 0)
      const moved = await runCli(['status', '--against-registry', '--json', repo], { env })
      expectExit(moved, 1)
      const report = moved.json as {
        moved: number
        environments: Array<{
          name: string
          components: Array<{ component: string; registry: { digest: string; moved: boolean } }>
        }>
      }
      expect(report.moved).toBe(3)
      for (const environment of report.environments) {
        expect(environment.components.find((c) => c.component === 'api')!.registry).toMatchObject({
          digest: apiV2,
          moved: true,
        })
        expect(environment.components.find((c) => c.component === 'web')!.registry).toMatchObject({
          digest: webV1,
          moved: false,
        })
      }

      // Renovate's stage pull request merges (the one-line change it makes), then stage is promoted to prod.
      const stageFile = join(repo, 'environments/stage/kustomization.yaml')
      await writeFile(stageFile, (await readFile(stageFile, 'utf8')).replace(`released@${apiV1}`, `released@${apiV2}`))
      await git(repo, 'commit', '-qam', 'Update api digest in stage')
      const promoted = await runCli(['promote', '--from', 'stage', '--to', 'prod', '--json', repo], { env })
      expectExit(promoted, 0)
      expect(promoted.json).toMatchObject({
        changes: [{ component: 'api', previous: apiV1, digest: apiV2 }],
        unchanged: ['web'],
        files: ['environments/prod/kustomization.yaml'],
      })
      expect(await git(repo, 'log', '-1', '--format=%s')).toBe('Promote stage to prod: api')
      const after = await runCli(['status', '--json', repo], { env })
      const prod = (after.json as typeof report).environments.find((e) => e.name === 'prod')!
      expect(prod.components.map((c) => [c.component, (c as unknown as { digest: string }).digest])).toEqual([
        ['api', apiV2],
        ['web', webV1],
      ])
      const again = await runCli(['promote', '--from', 'stage', '--to', 'prod', repo], { env })
      expectExit(again, 0)
      expect(again.stdout).toContain('nothing to promote')
      expect(await git(repo, 'log', '-1', '--format=%s')).toBe('Promote stage to prod: api')
    })
  })
})
