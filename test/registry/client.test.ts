import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyToTag, createRegistryClient, type RequestEvent } from '../../src/registry/index.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { withTempDir } from '../helpers/cli.js'

describe.each([
  { tls: false, auth: 'none' },
  { tls: true, auth: 'htpasswd' },
  { tls: true, auth: 'token' },
] as const)('registry client against docker-registry (tls $tls, auth $auth)', ({ tls, auth }) => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry({ tls, auth })
  })
  afterAll(async () => reg?.stop())

  function client(events?: RequestEvent[]) {
    return createRegistryClient({
      ...(reg.caPem ? { ca: reg.caPem } : { plainHttp: [reg.host] }),
      dockerConfigPath: reg.dockerConfigPath,
      ...(events ? { onRequest: (e: RequestEvent) => events.push(e) } : {}),
    })
  }

  test('resolveDigest returns the index digest of a 2-platform image, not a platform digest', async () => {
    const index = await reg.pushImage('acme/web', 'build-1', { platforms: ['linux/amd64', 'linux/arm64'] })
    const c = client()
    try {
      const resolved = await c.resolveDigest(`${reg.host}/acme/web:build-1`)
      expect(resolved.digest).toBe(index)
      expect(resolved.mediaType).toBe('application/vnd.oci.image.index.v1+json')
      expect(await c.manifestExists(`${reg.host}/acme/web@${index}`)).toBe(true)
      expect(await c.manifestExists(`${reg.host}/acme/web:nope`)).toBe(false)
      await expect(c.resolveDigest(`${reg.host}/acme/web:nope`)).rejects.toThrow(/not found/)
    } finally {
      await c.close()
    }
  })

  test('retag keeps Docker media types and the digest; a second run only HEADs', async () => {
    const digest = await reg.pushImage('acme/old', 'b1', { format: 'docker' })
    const events: RequestEvent[] = []
    const c = client(events)
    try {
      const first = await copyToTag(
        c,
        { registry: reg.host, path: 'acme/old', digest },
        { registry: reg.host, path: 'acme/old' },
        'released',
      )
      expect(first).toMatchObject({
        status: 'moved',
        digest,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      })
      expect(await reg.resolveTag('acme/old', 'released')).toBe(digest)
      const before = events.length
      const second = await copyToTag(
        c,
        { registry: reg.host, path: 'acme/old', digest },
        { registry: reg.host, path: 'acme/old' },
        'released',
      )
      expect(second.status).toBe('unchanged')
      expect(events.slice(before).map((e) => e.method)).toEqual(['HEAD'])
    } finally {
      await c.close()
    }
  })
})

describe('credentials', () => {
  test('a wrong password is refused with a hint and without the password in the message', async () => {
    const reg = await startRegistry({ tls: true, auth: 'token', password: 'right-password' })
    try {
      await withTempDir(async (dir) => {
        await mkdir(join(dir, 'docker'))
        const auth = Buffer.from(`${reg.username}:wrong-password-123`).toString('base64')
        await writeFile(
          join(dir, 'docker', 'config.json'),
          JSON.stringify({ auths: { [`https://${reg.host}`]: { auth } } }),
        )
        const c = createRegistryClient({ ca: reg.caPem!, env: { DOCKER_CONFIG: join(dir, 'docker') } })
        try {
          const error = await c.resolveDigest(`${reg.host}/acme/api:x`).catch((e: Error & { hint?: string }) => e)
          expect(error).toBeInstanceOf(Error)
          expect(String((error as Error).message)).toMatch(/HTTP 401/)
          expect(`${(error as Error).message} ${(error as { hint?: string }).hint}`).not.toMatch(
            /wrong-password-123|right-password/,
          )
          expect((error as { hint?: string }).hint).toMatch(/log in again/i)
        } finally {
          await c.close()
        }
      })
    } finally {
      await reg.stop()
    }
  })
})

describe('identity tokens', () => {
  test('an identitytoken from config.json is exchanged with the refresh_token grant', async () => {
    const reg = await startRegistry({ auth: 'token', refreshTokens: { 'refresh-abc': 'robot-7' } })
    try {
      await withTempDir(async (dir) => {
        const digest = await reg.pushImage('acme/api', 'b1')
        await writeFile(
          join(dir, 'config.json'),
          JSON.stringify({
            auths: { [reg.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: 'refresh-abc' } },
          }),
        )
        const c = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: join(dir, 'config.json') })
        try {
          expect((await c.resolveDigest(`${reg.host}/acme/api:b1`)).digest).toBe(digest)
        } finally {
          await c.close()
        }
        expect(reg.tokenServer!.requests.at(-1)).toMatchObject({ account: 'robot-7', granted: true })
      })
    } finally {
      await reg.stop()
    }
  })
})
