import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { expectExit, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { digestOf, makeGitOpsRepo } from '../render/gitops-fixture.js'

interface StatusJson {
  moved: number
  errors: number
  environments: Array<{
    name: string
    frozen: { by: string; reason: string | null } | null
    components: Array<{
      component: string
      state: string
      digest: string | null
      registry: { digest: string | null; moved: boolean; error: string | null } | null
    }>
  }>
}

const cell = (json: StatusJson, env: string, component: string) =>
  json.environments.find((e) => e.name === env)!.components.find((c) => c.component === component)!

describe('status', () => {
  it('shows pinned tag and short digest per environment and component, and frozen environments', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, {
        envs: { dev: {}, stage: { api: digestOf('1'), web: digestOf('2') }, prod: { api: digestOf('3') } },
        envExtra: { prod: { frozen: { by: 'alice', at: '2026-11-20T10:00:00Z', reason: 'bad release' } } },
      })
      const table = await runCli(['status', dir])
      expectExit(table, 0)
      const lines = table.stdout.trim().split('\n')
      expect(lines[0]).toMatch(/^ENVIRONMENT\s+COMPONENT\s+TAG\s+DIGEST$/)
      expect(lines).toContainEqual(expect.stringMatching(/^stage\s+api\s+released\s+111111111111$/))
      expect(lines).toContainEqual(expect.stringMatching(/^dev\s+web\s+released\s+\(unpinned\)$/))
      expect(lines).toContainEqual(expect.stringMatching(/^prod \(frozen\)\s+api\s+released\s+333333333333$/))
      expect(table.stdout).toContain('prod is frozen by alice since 2026-11-20T10:00:00Z: bad release')

      const json = await runCli(['status', dir, '--json'])
      expectExit(json, 0)
      expect(await schemaErrors('status', json.json)).toEqual([])
      const report = json.json as StatusJson
      expect(cell(report, 'stage', 'web')).toMatchObject({ state: 'pinned', digest: digestOf('2'), registry: null })
      expect(cell(report, 'prod', 'web')).toMatchObject({ state: 'unpinned', digest: null })
      expect(report.environments.find((e) => e.name === 'prod')!.frozen).toMatchObject({
        by: 'alice',
        reason: 'bad release',
      })
    })
  })

  it('names a repo without konflux-gitops.yaml', async () => {
    await withTempDir(async (dir) => {
      const result = await runCli(['status', dir])
      expectExit(result, 2)
      expect(result.stderr).toContain('konflux-gitops.yaml')
    })
  })
})

describe('status --against-registry (real registry, token auth)', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('reports current pins, then the moved tag after a release moves it', async () => {
    await withTempDir(async (dir) => {
      const api = `${reg.host}/acme/shop/api`
      const web = `${reg.host}/acme/shop/web`
      const apiV1 = await reg.pushImage('acme/shop/api', 'released')
      const webV1 = await reg.pushImage('acme/shop/web', 'released', { platforms: ['linux/amd64', 'linux/arm64'] })
      await makeGitOpsRepo(dir, {
        components: [
          { name: 'api', image: api },
          { name: 'web', image: web },
        ],
        envs: { stage: { api: apiV1, web: webV1 }, prod: { api: apiV1 } },
      })
      const before = await runCli(['status', '--against-registry', '--json', dir], { env: reg.env })
      expectExit(before, 0)
      expect(await schemaErrors('status', before.json)).toEqual([])
      const current = before.json as StatusJson
      expect(current.moved).toBe(0)
      expect(cell(current, 'stage', 'web').registry).toEqual({ digest: webV1, moved: false, error: null })
      // Unpinned: it follows the tag, and shows where the updater will pin it.
      expect(cell(current, 'prod', 'web').registry).toEqual({ digest: webV1, moved: false, error: null })
      expect(cell(current, 'prod', 'web').state).toBe('unpinned')

      const apiV2 = await reg.pushImage('acme/shop/api', 'build-2')
      await reg.moveTag('acme/shop/api', 'released', apiV2)
      const after = await runCli(['status', '--against-registry', dir], { env: reg.env })
      expectExit(after, 1)
      const short = (d: string) => d.slice('sha256:'.length, 'sha256:'.length + 12)
      const lines = after.stdout.split('\n')
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^stage\\s+api\\s+released\\s+${short(apiV1)}\\s+moved -> ${short(apiV2)}$`)),
      )
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^stage\\s+web\\s+released\\s+${short(webV1)}\\s+current$`)),
      )
      expect(after.stderr).toContain('pin(s) behind their tag')
    })
  })

  it('reports a lookup the registry refuses as an error row, without hiding the other rows', async () => {
    await withTempDir(async (dir) => {
      await reg.pushImage('acme/shop/api', 'released')
      await makeGitOpsRepo(dir, {
        components: [
          { name: 'api', image: `${reg.host}/acme/shop/api` },
          { name: 'gone', image: `${reg.host}/acme/shop/gone` },
        ],
        envs: { stage: {} },
      })
      const result = await runCli(['status', '--against-registry', '--json', dir], { env: reg.env })
      expectExit(result, 1)
      const report = result.json as StatusJson
      expect(report.errors).toBe(1)
      expect(cell(report, 'stage', 'gone').registry?.error).toContain('not found')
      expect(cell(report, 'stage', 'api').registry?.error).toBeNull()
    })
  })
})
