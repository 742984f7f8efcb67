import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, signImage, type TestKeyPair } from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { cleanRepo, DIGEST, writeRepo } from './clean-repo.js'

type Finding = { rule: string; severity: string; file: string; line: number | null; message: string }

describe('validate --against-registry with verify keys (real docker-registry)', () => {
  let registry: TestRegistry
  let chains: TestKeyPair
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' })
    chains = generateKeyPair()
  })
  afterAll(async () => registry?.stop())

  /** The clean repo on the test registry: prod pins api@apiDigest and web@webDigest. */
  function repoOn(apiDigest: string, webDigest: string, spec = ''): Record<string, string> {
    const files = cleanRepo()
    for (const [path, text] of Object.entries(files)) {
      files[path] = text.replaceAll('quay.io/acme/shop/', `${registry.host}/acme/shop/`)
    }
    files['environments/prod/kustomization.yaml'] = String(files['environments/prod/kustomization.yaml'])
      .replace(`shop/api\n    newTag: released@${DIGEST}`, `shop/api\n    newTag: released@${apiDigest}`)
      .replace(`shop/web\n    newTag: released@${DIGEST}`, `shop/web\n    newTag: released@${webDigest}`)
    files['konflux-gitops.yaml'] += spec
    return files
  }

  it('an unsigned pinned digest is an error at its file and line; signed ones pass (key from konflux-gitops.yaml)', async () => {
    const api = await registry.pushImage('acme/shop/api', 'released')
    const web = await registry.pushImage('acme/shop/web', 'released', { platforms: ['linux/amd64', 'linux/arm64'] })
    await signImage(registry, 'acme/shop/api', api, chains)
    await withTempDir(async (dir) => {
      await writeRepo(dir, {
        ...repoOn(api, web, 'verify:\n  keys: [keys/cosign.pub]\n'),
        'keys/cosign.pub': chains.publicPem,
      })
      // Offline (no --against-registry) the spec with verify: is valid and nothing is asked of the registry.
      expect((await runCli(['validate', dir], { env: registry.env })).exitCode).toBe(0)
      const result = await runCli(['validate', dir, '--against-registry', '--json'], { env: registry.env })
      expect(await schemaErrors('validate', result.json)).toEqual([])
      const findings = (result.json as { findings: Finding[] }).findings
      expect(findings).toEqual([
        expect.objectContaining({
          rule: 'image-unsigned',
          severity: 'error',
          file: 'environments/prod/kustomization.yaml',
          line: 11,
        }),
      ])
      expect(findings[0]?.message).toContain(`${registry.host}/acme/shop/web@${web} has no signature`)
      expect(result.exitCode).toBe(1)

      // Chains signs the index: validate passes. Without --against-registry it never asks the registry.
      await signImage(registry, 'acme/shop/web', web, chains)
      const signed = await runCli(['validate', dir, '--against-registry', '--json'], { env: registry.env })
      expect((signed.json as { findings: Finding[] }).findings).toEqual([])
      expect(signed.exitCode).toBe(0)
    })
  })

  it('--verify-key: a signature by another key does not count; a bad key file is a usage error', async () => {
    const api = await registry.pushImage('acme/shop/api', 'released')
    const web = await registry.pushImage('acme/shop/web', 'released')
    await signImage(registry, 'acme/shop/api', api, chains)
    await signImage(registry, 'acme/shop/web', web, generateKeyPair())
    await withTempDir(async (dir) => {
      await writeRepo(dir, repoOn(api, web))
      await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
      const result = await runCli(
        ['validate', dir, '--against-registry', '--verify-key', join(dir, 'cosign.pub'), '--json'],
        { env: registry.env },
      )
      const findings = (result.json as { findings: Finding[] }).findings
      expect(findings.map((f) => [f.rule, f.line])).toEqual([['image-unsigned', 11]])
      expect(findings[0]?.message).toContain('signature does not verify with key')
      expect(result.exitCode).toBe(1)

      const bad = await runCli(['validate', dir, '--against-registry', '--verify-key', join(dir, 'nope.pub')], {
        env: registry.env,
      })
      expect(bad.exitCode).toBe(2)
      expect(bad.stderr).toContain('nope.pub: cannot read the key file')
    })
  })
})
