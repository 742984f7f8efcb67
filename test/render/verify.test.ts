import { execFile } from 'node:child_process'
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { generateKeyPair, signImage, type TestKeyPair } from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { SHAPES } from '../helpers/shapes.js'

const run = promisify(execFile)

describe('render --verify-key: the ephemeral environment never runs an unsigned Snapshot image', () => {
  let reg: TestRegistry
  let chains: TestKeyPair
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' })
    chains = generateKeyPair()
  })
  afterAll(async () => reg?.stop())

  it.each(SHAPES)(
    '%s + %s: an unsigned image is refused and nothing is written; signed, it renders',
    async (flavour, updater) => {
      await withTempDir(async (dir) => {
        const repo = join(dir, 'repo')
        const init = await runCli([
          'init',
          repo,
          '--app',
          'shop',
          '--component',
          `api=${reg.host}/acme/shop/api:8080`,
          '--component',
          `web=${reg.host}/acme/shop/web:3000`,
          '--flavour',
          flavour,
          '--updater',
          updater,
        ])
        expect(init.exitCode, init.stderr).toBe(0)
        await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
        const api = await reg.pushImage('acme/shop/api', undefined)
        const web = await reg.pushImage('acme/shop/web', undefined, { platforms: ['linux/amd64', 'linux/arm64'] })
        await signImage(reg, 'acme/shop/api', api, chains)
        const snapshot = JSON.stringify({
          application: 'shop',
          components: [
            { name: 'api', containerImage: `${reg.host}/acme/shop/api@${api}` },
            { name: 'web', containerImage: `${reg.host}/acme/shop/web@${web}` },
          ],
        })
        const out = join(dir, 'rendered')
        const args = ['render', '--snapshot', snapshot, '--env', 'stage', '--out', out, repo]
        const refused = await runCli([...args, '--verify-key', join(dir, 'cosign.pub')], { env: reg.env })
        expect(refused.exitCode).toBe(1)
        expect(refused.stderr).toContain('refusing to render unsigned Snapshot images')
        expect(refused.stderr).toContain(`web: ${reg.host}/acme/shop/web@${web} has no signature`)
        expect(refused.stderr).not.toContain('api:')
        await expect(access(out)).rejects.toThrow()

        await signImage(reg, 'acme/shop/web', web, chains)
        const ok = await runCli([...args, '--verify-key', join(dir, 'cosign.pub'), '--json'], { env: reg.env })
        expect(ok.exitCode, ok.stderr).toBe(0)
        expect((ok.json as { images: { component: string; image: string }[] }).images).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ component: 'api', image: `${reg.host}/acme/shop/api@${api}` }),
            expect.objectContaining({ component: 'web', image: `${reg.host}/acme/shop/web@${web}` }),
          ]),
        )
      })
    },
  )
})

describe('deploy-and-test pipeline: VERIFY_KEY reaches render', () => {
  it('writes the key parameter to a file and passes it as --verify-key; empty passes none', async () => {
    await withTempDir(async (root) => {
      const repo = join(root, 'repo')
      const init = await runCli([
        'init',
        repo,
        '--app',
        'shop',
        '--component',
        'api=quay.io/acme/shop/api:8080',
        '--integration-test',
      ])
      expect(init.exitCode, init.stderr).toBe(0)
      const remote = join(root, 'remote.git')
      await run('git', ['clone', '-q', '--bare', repo, remote])
      type Step = { name: string; script?: string }
      const pipeline = parse(await readFile(join(repo, 'integration/pipelines/deploy-and-test.yaml'), 'utf8')) as {
        spec: {
          params: { name: string; default?: string }[]
          tasks: { name: string; params?: { name: string; value: string }[]; taskSpec?: { steps: Step[] } }[]
        }
      }
      expect(pipeline.spec.params.find((p) => p.name === 'VERIFY_KEY')).toMatchObject({ default: '' })
      const deploy = pipeline.spec.tasks.find((t) => t.name === 'deploy')!
      expect(deploy.params).toContainEqual({ name: 'VERIFY_KEY', value: '$(params.VERIFY_KEY)' })
      const script = deploy.taskSpec!.steps.find((s) => s.name === 'deploy-snapshot')!.script!
      const bin = join(root, 'bin')
      await mkdir(bin)
      // konflux-gitops (the image's CLI) records the render arguments and the key file; kubectl answers the namespace.
      await writeFile(
        join(bin, 'konflux-gitops'),
        `#!/usr/bin/env bash\necho "$*" > "${root}/render-args"\nwhile [ $# -gt 0 ]; do [ "$1" = --verify-key ] && cat "$2" > "${root}/key-seen"; shift; done\n`,
      )
      await writeFile(
        join(bin, 'kubectl'),
        '#!/usr/bin/env bash\ncase "$1" in config) echo eaas-ns ;; apply) cat > /dev/null ;; esac\n',
      )
      await chmod(join(bin, 'konflux-gitops'), 0o755)
      await chmod(join(bin, 'kubectl'), 0o755)
      const scriptFile = join(root, 'deploy.sh')
      await writeFile(scriptFile, script.replaceAll('$(results.NAMESPACE.path)', join(root, 'ns')))
      const key = generateKeyPair().publicPem.trim()
      const env = (verifyKey: string) => ({
        PATH: `${bin}${delimiter}${process.env.PATH}`,
        HOME: root,
        SNAPSHOT: '{}',
        GITOPS_REPO_URL: remote,
        GITOPS_REVISION: 'main',
        ENVIRONMENT: 'stage',
        ROLLOUT_TIMEOUT: '5m',
        VERIFY_KEY: verifyKey,
      })
      const workdir = join(root, 'w1')
      await mkdir(workdir)
      await run('bash', [scriptFile], { cwd: workdir, env: env(key) })
      expect(await readFile(join(root, 'render-args'), 'utf8')).toMatch(/--verify-key \.\.\/verify-key\.pub/)
      expect((await readFile(join(root, 'key-seen'), 'utf8')).trim()).toBe(key)
      const plain = join(root, 'w2')
      await mkdir(plain)
      await run('bash', [scriptFile], { cwd: plain, env: env('') })
      expect(await readFile(join(root, 'render-args'), 'utf8')).not.toContain('--verify-key')
    })
  })
})
