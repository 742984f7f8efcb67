/**
 * promote --verify-key / verify.keys: prod never pins a digest that is not signed. Images signed in the test on the
 * real registry (test/harness/cosign.ts), on every repo shape init writes.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDocument } from 'yaml'
import { pinStoreFor } from '../../src/pins/index.js'
import { parseSpec } from '../../src/spec/index.js'
import { generateKeyPair, signImage, type TestKeyPair } from '../harness/cosign.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { withTempDir } from '../helpers/cli.js'
import { SHAPES } from '../helpers/shapes.js'
import { cli, digest, expectExit, git, initRepo } from '../rollback/repo-fixture.js'

async function readRepo(dir: string) {
  const { spec } = parseSpec(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8'))
  const store = pinStoreFor(spec)
  const texts = new Map<string, string | undefined>()
  const load = async (env: string) => {
    for (const path of store.files(spec, env))
      texts.set(path, await readFile(join(dir, path), 'utf8').catch(() => undefined))
  }
  return { spec, store, readText: (path: string) => texts.get(path), load }
}

/** Pins written through the pin seam, committed, as a merged updater pull request would. */
async function pin(dir: string, env: string, pins: Record<string, string>): Promise<void> {
  const { spec, store, readText, load } = await readRepo(dir)
  await load(env)
  for (const [path, text] of store.write(spec, env, readText, { pins: new Map(Object.entries(pins)) }))
    await writeFile(join(dir, path), text)
  await git(dir, 'commit', '-q', '-am', `pin ${env}`)
}

async function pinsOf(dir: string, env: string): Promise<Record<string, string | undefined>> {
  const { spec, store, readText, load } = await readRepo(dir)
  await load(env)
  return Object.fromEntries(store.read(spec, env, readText).map((p) => [p.component, p.digest]))
}

describe('promote with verify keys: an unsigned digest never reaches the target', () => {
  let reg: TestRegistry
  let chains: TestKeyPair
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' })
    chains = generateKeyPair()
  })
  afterAll(async () => reg?.stop())

  it.each(SHAPES)(
    '%s + %s: refused (also --dry-run) with nothing written; verify.keys then promotes once signed',
    async (flavour, updater) => {
      await withTempDir(async (root) => {
        const dir = join(root, 'repo')
        await initRepo(dir, {
          images: { api: `${reg.host}/acme/shop/api`, web: `${reg.host}/acme/shop/web` },
          extra: ['--flavour', flavour, '--updater', updater],
        })
        const api = await reg.pushImage('acme/shop/api', undefined)
        const web = await reg.pushImage('acme/shop/web', undefined, { platforms: ['linux/amd64', 'linux/arm64'] })
        await signImage(reg, 'acme/shop/api', api, chains)
        await pin(dir, 'stage', { api, web })
        await pin(dir, 'prod', { api: digest(1), web: digest(2) })
        const pub = join(root, 'cosign.pub')
        await writeFile(pub, chains.publicPem)
        const head = await git(dir, 'rev-parse', 'HEAD')
        const nothingChanged = async () => {
          expect(await git(dir, 'rev-parse', 'HEAD')).toBe(head)
          expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main')
          expect(await git(dir, 'status', '--porcelain')).toBe('')
          expect(await pinsOf(dir, 'prod')).toEqual({ api: digest(1), web: digest(2) })
        }
        const args = ['promote', '--from', 'stage', '--to', 'prod', dir]

        const dry = await cli([...args, '--verify-key', pub, '--dry-run'], reg.env)
        expectExit(dry, 1)
        expect(dry.stderr).toContain('refusing to promote unsigned digests into prod')
        expect(dry.stderr).toContain(`web: ${reg.host}/acme/shop/web@${web} has no signature (looked in`)
        expect(dry.stderr).not.toContain('api:')
        expect(dry.stdout).not.toContain('+')
        await nothingChanged()

        const refused = await cli([...args, '--verify-key', pub, '--json'], reg.env)
        expectExit(refused, 1)
        expect(refused.json).toMatchObject({ error: { code: 'verify-unsigned', exit: 1 } })
        expect((refused.json as { error: { message: string } }).error.message).toContain(
          `web: ${reg.host}/acme/shop/web@${web}`,
        )
        await nothingChanged()

        // The key recorded in the repo (verify.keys, repo-relative) gates the same way without the flag.
        await writeFile(join(dir, 'cosign.pub'), chains.publicPem)
        const specDoc = parseDocument(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8'))
        specDoc.set('verify', { keys: ['cosign.pub'] })
        await writeFile(join(dir, 'konflux-gitops.yaml'), specDoc.toString())
        await git(dir, 'add', '-A')
        await git(dir, 'commit', '-qm', 'verify keys')
        const fromSpec = await cli(args, reg.env)
        expectExit(fromSpec, 1)
        expect(fromSpec.stderr).toContain(`web: ${reg.host}/acme/shop/web@${web} has no signature`)
        expect(await pinsOf(dir, 'prod')).toEqual({ api: digest(1), web: digest(2) })

        await signImage(reg, 'acme/shop/web', web, chains)
        const ok = await cli([...args, '--json'], reg.env)
        expectExit(ok, 0)
        expect(await pinsOf(dir, 'prod')).toEqual({ api, web })
        expect(await git(dir, 'status', '--porcelain')).toBe('')
      })
    },
  )
})
