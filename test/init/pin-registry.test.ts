import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { buildEnvironment, read } from './repo-checks.js'

// --pin against a real registry (Debian's docker-registry over TLS with htpasswd auth, credentials from DOCKER_CONFIG).
let registry: TestRegistry

beforeAll(async () => {
  registry = await startRegistry({ auth: 'htpasswd' })
})
afterAll(async () => {
  await registry?.stop()
})

describe('init --pin and component add --pin', () => {
  it('pins every environment to the digest :released points at now (the index digest for 2 platforms)', async () => {
    const api = await registry.pushImage('acme/shop/api', 'build-1')
    await registry.moveTag('acme/shop/api', 'released', api)
    const web = await registry.pushImage('acme/shop/web', 'build-7', { platforms: ['linux/amd64', 'linux/arm64'] })
    await registry.moveTag('acme/shop/web', 'released', web)
    const host = registry.host

    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const result = await runCli(
        [
          'init',
          'demo',
          '--app',
          'shop',
          '--component',
          `api=${host}/acme/shop/api`,
          '--component',
          `web=${host}/acme/shop/web:8080`,
          '--pin',
          '--json',
        ],
        { cwd: tmp, env: registry.env },
      )
      expect(result.stderr).toBe('')
      expect(result.exitCode).toBe(0)
      expect(await schemaErrors('init', result.json)).toEqual([])
      for (const env of ['dev', 'stage', 'prod']) {
        const { objects } = await buildEnvironment(repo, env)
        const images = objects
          .filter((o) => o.kind === 'Deployment')
          .map((o) => o.object.spec.template.spec.containers[0].image)
          .sort()
        expect(images).toEqual([`${host}/acme/shop/api:released@${api}`, `${host}/acme/shop/web:released@${web}`])
      }

      const worker = await registry.pushImage('acme/shop/worker', 'build-2')
      await registry.moveTag('acme/shop/worker', 'released', worker)
      const add = await runCli(['component', 'add', 'worker', 'demo', '--image', `${host}/acme/shop/worker`, '--pin'], {
        cwd: tmp,
        env: registry.env,
      })
      expect(add.exitCode).toBe(0)
      const prod = await read(repo, 'environments/prod/kustomization.yaml')
      expect(prod).toContain(`newTag: released@${worker}`)
      expect(prod).toContain(`newTag: released@${api}`)
    })
  })

  it('a tag that does not exist fails before anything is written', async () => {
    await withTempDir(async (tmp) => {
      const result = await runCli(
        ['init', 'demo', '--app', 'shop', '--component', `api=${registry.host}/acme/shop/missing`, '--pin'],
        { cwd: tmp, env: registry.env },
      )
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(`--pin: cannot resolve ${registry.host}/acme/shop/missing:released`)
      expect(result.stderr).toContain('Hint: Check that the tag exists')
      await expect(read(tmp, 'demo/konflux-gitops.yaml')).rejects.toThrow()
    })
  })
})
