/**
 * doctor with verify keys recorded by `init --verify-key`, on all four repo shapes, against the real registry:
 * one line per environment saying whether its pinned digests are signed.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runDoctor } from '../../src/doctor/index.js'
import { generateKeyPair, signImage, type TestKeyPair } from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { SHAPES } from '../helpers/shapes.js'

describe('doctor reports per environment whether its pins are signed (verify.keys)', () => {
  let registry: TestRegistry
  let chains: TestKeyPair
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' })
    chains = generateKeyPair()
  })
  afterAll(async () => registry?.stop())

  it.each(SHAPES)('%s + %s', async (flavour, updater) => {
    await withTempDir(async (root) => {
      const base = `acme/${flavour}-${updater}`
      const api = await registry.pushImage(`${base}/api`, 'released')
      const web = await registry.pushImage(`${base}/web`, 'released', { platforms: ['linux/amd64', 'linux/arm64'] })
      await signImage(registry, `${base}/api`, api, chains)
      const keyFile = join(root, 'cosign.pub')
      await writeFile(keyFile, chains.publicPem)
      const dir = join(root, 'gitops')
      const init = await runCli(
        [
          'init',
          dir,
          '--app',
          'shop',
          '--component',
          `api=${registry.host}/${base}/api`,
          '--component',
          `web=${registry.host}/${base}/web`,
          '--flavour',
          flavour,
          '--updater',
          updater,
          '--ci',
          'none',
          '--pin',
          '--verify-key',
          keyFile,
        ],
        { env: registry.env },
      )
      expect(init.exitCode, init.stderr).toBe(0)
      // The key is recorded as PEM text: it travels with the repository (CI, the integration pipeline).
      const spec = parse(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')) as { verify: { keys: string[] } }
      expect(spec.verify.keys).toEqual([chains.publicPem])

      const doctor = async () => {
        const report = await runDoctor(dir, {
          timeoutMs: 15_000,
          registry: { ca: registry.caPem!, dockerConfigPath: registry.dockerConfigPath },
          env: { ...process.env, ...registry.env },
        })
        const json = JSON.parse(JSON.stringify(report))
        expect(await schemaErrors('doctor', json)).toEqual([])
        return report.checks.filter((c) => c.id.startsWith('registry.signed'))
      }
      const before = await doctor()
      expect(before.map((c) => [c.id, c.status])).toEqual([
        ['registry.signed.dev', 'fail'],
        ['registry.signed.stage', 'fail'],
        ['registry.signed.prod', 'fail'],
      ])
      expect(before[0]?.message).toContain(`web: ${registry.host}/${base}/web@${web} has no signature`)
      expect(before[0]?.message).not.toContain('api:')
      expect(before[0]?.fix).toContain('--verify-key')

      // validate --against-registry reads the same recorded key: the web pin of every environment is a finding.
      const validate = await runCli(['validate', dir, '--against-registry', '--json'], { env: registry.env })
      const unsigned = (validate.json as { findings: { rule: string; file: string; line: number }[] }).findings.filter(
        (f) => f.rule === 'image-unsigned',
      )
      expect(unsigned).toHaveLength(3)
      expect(unsigned.every((f) => f.file.startsWith('environments/') && f.line > 0)).toBe(true)
      expect(validate.exitCode).toBe(1)

      await signImage(registry, `${base}/web`, web, chains)
      const after = await doctor()
      expect(after.map((c) => c.status)).toEqual(['ok', 'ok', 'ok'])
      expect(after[0]?.message).toBe('dev: 2 pinned digest(s) signed by verify.keys[0]')
    })
  })

  it('init refuses a private key as --verify-key and writes nothing', async () => {
    await withTempDir(async (root) => {
      const keyFile = join(root, 'cosign.key')
      await writeFile(keyFile, chains.privateKey.export({ type: 'pkcs8', format: 'pem' }))
      const dir = join(root, 'gitops')
      const init = await runCli([
        'init',
        dir,
        '--app',
        'shop',
        '--component',
        'api=quay.io/acme/api',
        '--verify-key',
        keyFile,
      ])
      expect(init.exitCode).toBe(2)
      expect(init.stderr).toContain('cosign.key: this is a private key')
      await expect(readFile(join(dir, 'konflux-gitops.yaml'))).rejects.toThrow()
    })
  })
})
