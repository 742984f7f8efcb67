import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { cleanRepo, DIGEST, writeRepo } from './clean-repo.js'

describe('validate --against-registry (real docker-registry)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' })
  })
  afterAll(async () => {
    await registry?.stop()
  })

  /** The clean repo with its images moved to the test registry, prod pinned to `prodDigest`. */
  function repoOn(host: string, prodDigest: string): Record<string, string> {
    const files = cleanRepo()
    for (const [path, text] of Object.entries(files)) {
      files[path] = text.replaceAll('quay.io/acme/shop/', `${host}/acme/shop/`).replaceAll(DIGEST, prodDigest)
    }
    return files
  }

  it('warns when a tag moved past the pinned digest, and names file and line', async () => {
    const first = await registry.pushImage('acme/shop/api', 'released')
    const web = await registry.pushImage('acme/shop/web', 'released')
    await withTempDir(async (dir) => {
      const files = repoOn(registry.host, first)
      files['environments/prod/kustomization.yaml'] = String(files['environments/prod/kustomization.yaml']).replace(
        `shop/web\n    newTag: released@${first}`,
        `shop/web\n    newTag: released@${web}`,
      )
      await writeRepo(dir, files)
      const current = await runCli(['validate', dir, '--against-registry', '--json'], { env: registry.env })
      expect(current.exitCode, current.stderr + current.stdout).toBe(0)
      expect((current.json as { findings: unknown[] }).findings).toEqual([])

      const second = await registry.pushImage('acme/shop/api', 'released')
      const moved = await runCli(['validate', dir, '--against-registry', '--json', '--fail-on', 'warning'], {
        env: registry.env,
      })
      expect((moved.json as { findings: unknown[] }).findings).toEqual([
        expect.objectContaining({
          rule: 'image-drift',
          severity: 'warning',
          file: 'environments/prod/kustomization.yaml',
          line: 9,
          message: `${registry.host}/acme/shop/api:released now points to ${second}; this file pins ${first}`,
        }),
      ])
      expect(moved.exitCode).toBe(1)
      // Without the flag, validate stays offline.
      expect((await runCli(['validate', dir, '--json'], { env: registry.env })).exitCode).toBe(0)
    })
  })

  it('a registry that cannot answer is a warning naming the reference, not a crash', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, repoOn(registry.host, DIGEST))
      // No credentials: the registry answers 401 to every request.
      const result = await runCli(['validate', dir, '--against-registry', '--json'], {
        env: { NODE_EXTRA_CA_CERTS: registry.env.NODE_EXTRA_CA_CERTS, DOCKER_CONFIG: dir },
      })
      const findings = (result.json as { findings: { rule: string; message: string }[] }).findings
      expect(findings.map((f) => f.rule)).toEqual(['registry-lookup-failed', 'registry-lookup-failed'])
      expect(findings[0]?.message).toContain(`${registry.host}/acme/shop/api:released`)
      expect(result.exitCode).toBe(0)
    })
  })
})
