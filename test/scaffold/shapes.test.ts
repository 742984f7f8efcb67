import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { pinStoreFor } from '../../src/pins/index.js'
import { repoReader } from '../../src/repo/index.js'
import { readSpec } from '../../src/spec/index.js'
import { kubeTools, kustomizeBuild } from '../harness/kube-tools.js'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'

/** The manifests an environment deploys, built the way Argo CD builds that shape. */
async function build(repo: string, flavour: string, env: string): Promise<string> {
  if (flavour === 'kustomize') return kustomizeBuild(join(repo, 'environments', env))
  const { helm } = await kubeTools()
  const chart = join(repo, 'charts', 'shop')
  const { stdout } = await run(helm, ['template', 'shop', chart, '-f', join(repo, 'environments', env, 'values.yaml')])
  return stdout
}

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate', shape: 'kustomize-images' },
  { flavour: 'kustomize', updater: 'dependabot', shape: 'manifest-patches' },
  { flavour: 'helm', updater: 'renovate', shape: 'helm-values' },
] as const

describe.each(SHAPES)('component and env add/remove on $flavour + $updater ($shape)', ({ flavour, updater, shape }) => {
  it('keeps pins, manifests and validate in step', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const cli = async (...args: string[]) => {
        const result = await runCli(args, { cwd: tmp })
        expect(result.exitCode, `${args.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0)
        return result
      }
      await cli('init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', flavour, '--updater', updater)
      const spec = async () => (await readSpec(repo))!.spec
      const pins = async (env: string) => {
        const s = await spec()
        expect(pinStoreFor(s).shape).toBe(shape)
        return pinStoreFor(s).read(s, env, repoReader(repo))
      }
      expect((await pins('prod')).find((p) => p.component === 'api')).toMatchObject({
        tag: 'released',
        digest: API_DIGEST,
      })

      await cli('component', 'add', 'worker', '--image', 'quay.io/acme/shop/worker', '--port', '9090', 'demo')
      await cli('env', 'add', 'qa', 'demo')
      const qa = await pins('qa')
      expect(qa.map((p) => p.component).sort()).toEqual(['api', 'web', 'worker'])
      expect(qa.find((p) => p.component === 'worker')).toMatchObject({
        repository: 'quay.io/acme/shop/worker',
        tag: 'released',
        digest: undefined,
      })
      // The earlier pins survive a change to the spec.
      expect((await pins('prod')).find((p) => p.component === 'api')?.digest).toBe(API_DIGEST)
      const built = await build(repo, flavour, 'qa')
      expect(built).toMatch(/image: "?quay\.io\/acme\/shop\/worker:released"?\n/)
      expect(built).toMatch(/containerPort: 9090/)

      await cli('component', 'remove', 'web', 'demo')
      await cli('env', 'remove', 'stage', 'demo')
      expect((await pins('dev')).map((p) => p.component).sort()).toEqual(['api', 'worker'])
      expect(await pins('stage')).toEqual([])
      expect(await build(repo, flavour, 'dev')).not.toContain('shop/web')

      const validate = await runCli(['validate', repo])
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0)
    })
  })
})
