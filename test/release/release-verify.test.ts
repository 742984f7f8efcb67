import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { attestImage, chainsProvenance, generateKeyPair, signImage, type TestKeyPair } from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { snapshotYaml } from './snapshot-fixture.js'

const REVISION = '4f2a9c0d1e3b5a7968f0c1d2e3f4a5b6c7d8e9f0'

describe('release --verify-key: only signed digests get release tags', () => {
  let reg: TestRegistry
  let chains: TestKeyPair
  let rotated: TestKeyPair
  let stranger: TestKeyPair

  beforeAll(async () => {
    reg = await startRegistry({ tls: true, auth: 'token' })
    chains = generateKeyPair()
    rotated = generateKeyPair('rsa')
    stranger = generateKeyPair()
  })
  afterAll(async () => reg?.stop())

  const image = (name: string, digest: string) => `${reg.host}/acme-tenant/shop/${name}@${digest}`

  test('signed components move, an unsigned one is refused naming the missing signature, nothing moves for it', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
      await writeFile(join(dir, 'new.pub'), rotated.publicPem)
      const api = await reg.pushImage('acme-tenant/shop/api', 'b1')
      const web = await reg.pushImage('acme-tenant/shop/web', 'b1', { platforms: ['linux/amd64', 'linux/arm64'] })
      const worker = await reg.pushImage('acme-tenant/shop/worker', 'b1')
      await signImage(reg, 'acme-tenant/shop/api', api, chains)
      await signImage(reg, 'acme-tenant/shop/web', web, rotated) // the index digest, by the rotated key
      const snapshot = snapshotYaml([
        { name: 'api', containerImage: image('api', api) },
        { name: 'web', containerImage: image('web', web) },
        { name: 'worker', containerImage: image('worker', worker) },
      ])
      const args = ['release', '--snapshot', '-', '--tag', 'released', '--tag', '{{ git_short_sha }}']
      const keys = ['--verify-key', join(dir, 'cosign.pub'), '--verify-key', join(dir, 'new.pub')]

      const dry = await runCli([...args, ...keys, '--dry-run'], { input: snapshot, env: reg.env })
      expect(dry.exitCode, dry.stderr).toBe(1)
      expect(dry.stdout).toMatch(/REFUSED\s+\S+worker:released/)

      const run = await runCli([...args, ...keys, '--json'], { input: snapshot, env: reg.env })
      expect(run.exitCode, run.stderr).toBe(1)
      expect(await schemaErrors('release', run.json)).toEqual([])
      const report = run.json as {
        summary: Record<string, number>
        results: { component: string; status: string; error: { code: string; message: string } | null }[]
      }
      expect(report.summary).toMatchObject({ moved: 4, refused: 2, failed: 0 })
      const refused = report.results.filter((r) => r.status === 'refused')
      expect(refused.map((r) => r.component)).toEqual(['worker', 'worker'])
      expect(refused[0]?.error?.code).toBe('verify-unsigned')
      expect(refused[0]?.error?.message).toContain(`acme-tenant/shop/worker@${worker} has no signature`)
      expect(refused[0]?.error?.message).toContain(`${worker.replace(':', '-')}.sig`)
      expect(await reg.resolveTag('acme-tenant/shop/api', 'released')).toBe(api)
      expect(await reg.resolveTag('acme-tenant/shop/web', 'released')).toBe(web)
      expect(await reg.resolveTag('acme-tenant/shop/worker', 'released')).toBeUndefined()
      expect(await reg.resolveTag('acme-tenant/shop/worker', '4f2a9c0')).toBeUndefined()
      expect(run.stderr).toContain('error: ')
      expect(run.stderr).toContain('hint: Only images signed by a trusted key are released')
    })
  })

  test('a signature by another key or over another digest is refused; with the right signature it releases', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
      const other = await reg.pushImage('acme-tenant/shop/api', 'o1')
      const api = await reg.pushImage('acme-tenant/shop/api', 'o2')
      await signImage(reg, 'acme-tenant/shop/api', api, stranger)
      await signImage(reg, 'acme-tenant/shop/api', api, chains, { payloadDigest: other })
      const snapshot = snapshotYaml([{ name: 'api', containerImage: image('api', api) }])
      const args = ['release', '--snapshot', '-', '--tag', 'candidate', '--verify-key', join(dir, 'cosign.pub')]
      const refused = await runCli(args, { input: snapshot, env: reg.env })
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toContain('signature does not verify with key')
      expect(refused.stderr).toContain(`the signature is over another digest: its payload names ${other}`)
      expect(await reg.resolveTag('acme-tenant/shop/api', 'candidate')).toBeUndefined()

      await signImage(reg, 'acme-tenant/shop/api', api, chains)
      const ok = await runCli(args, { input: snapshot, env: reg.env })
      expect(ok.exitCode, ok.stderr).toBe(0)
      expect(await reg.resolveTag('acme-tenant/shop/api', 'candidate')).toBe(api)
    })
  })

  test('--verify-source-revision: the provenance must list the Snapshot revision', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
      const api = await reg.pushImage('acme-tenant/shop/api', 'p1')
      await signImage(reg, 'acme-tenant/shop/api', api, chains)
      await attestImage(reg, 'acme-tenant/shop/api', api, chains, { predicate: chainsProvenance('9'.repeat(40)) })
      const snapshot = snapshotYaml([{ name: 'api', containerImage: image('api', api), revision: REVISION }])
      const args = ['release', '--snapshot', '-', '--tag', 'prov', '--verify-key', join(dir, 'cosign.pub')]
      const strict = [...args, '--verify-source-revision', '--verify-builder-id', 'https://tekton.dev/chains/v2']
      const refused = await runCli(strict, { input: snapshot, env: reg.env })
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toContain(`does not list source commit ${REVISION}`)
      await attestImage(reg, 'acme-tenant/shop/api', api, chains, { predicate: chainsProvenance(REVISION) })
      const ok = await runCli(strict, { input: snapshot, env: reg.env })
      expect(ok.exitCode, ok.stderr).toBe(0)
      expect(await reg.resolveTag('acme-tenant/shop/api', 'prov')).toBe(api)
    })
  })

  test('a private key given as --verify-key is a usage error before anything moves', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'cosign.key')
      await writeFile(file, chains.privateKey.export({ type: 'pkcs8', format: 'pem' }))
      const api = await reg.pushImage('acme-tenant/shop/api', 'k1')
      const snapshot = snapshotYaml([{ name: 'api', containerImage: image('api', api) }])
      const run = await runCli(['release', '--snapshot', '-', '--tag', 'k', '--verify-key', file], {
        input: snapshot,
        env: reg.env,
      })
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toContain('cosign.key: this is a private key')
      expect(await reg.resolveTag('acme-tenant/shop/api', 'k')).toBeUndefined()
    })
  })
})
