import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { backoffMs, CredentialStore, normaliseAuthKey, parseChallenge, retryAfterMs } from '../../src/registry/index.js'
import { withTempDir } from '../helpers/cli.js'

describe('HTTP details', () => {
  test('Bearer challenges with quoted commas parse', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    })
    expect(parseChallenge('Basic realm="Registry Realm"')?.scheme).toBe('basic')
  })
  test('Retry-After in seconds or as an HTTP date; backoff stays within its cap', () => {
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000)
    expect(retryAfterMs('soon')).toBeUndefined()
    for (let attempt = 1; attempt < 20; attempt++) {
      const wait = backoffMs(attempt, { baseMs: 200, maxMs: 5000 })
      expect(wait).toBeGreaterThanOrEqual(Math.min(5000, 200 * 2 ** (attempt - 1)) / 2)
      expect(wait).toBeLessThanOrEqual(5000)
    }
    expect(backoffMs(4, { baseMs: 200, maxMs: 60_000 }, undefined, () => 1)).toBe(1600)
    expect(backoffMs(1, { baseMs: 200, maxMs: 5000, maxRetryAfterMs: 5000 }, 60_000)).toBe(5000)
  })
})

describe('docker config credentials', () => {
  test('auths keys in any spelling, per-repository entries, identity tokens', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'config.json')
      const b64 = (s: string) => Buffer.from(s).toString('base64')
      await writeFile(
        file,
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
            'https://quay.io': { auth: b64('org:orgpw') },
            'quay.io/acme/private': { auth: b64('robot:robotpw') },
            'registry.example.com': { identitytoken: 'refresh-123', auth: b64('me:') },
          },
        }),
      )
      const store = new CredentialStore({ dockerConfigPath: file })
      expect(await store.get('docker.io', 'library/nginx')).toEqual({
        kind: 'basic',
        username: 'hub',
        password: 'hubpw',
      })
      expect(await store.get('quay.io', 'acme/private/api')).toMatchObject({ username: 'robot' })
      expect(await store.get('quay.io', 'acme/public')).toMatchObject({ username: 'org' })
      expect(await store.get('registry.example.com', 'x')).toEqual({
        kind: 'identity-token',
        username: 'me',
        token: 'refresh-123',
      })
      expect(await store.get('ghcr.io', 'x')).toBeUndefined()
      expect(normaliseAuthKey('https://ghcr.io/v2/')).toBe('ghcr.io')
    })
  })

  test('credHelpers and credsStore run docker-credential-<name> get', async () => {
    await withTempDir(async (dir) => {
      const bin = join(dir, 'bin')
      await mkdir(bin)
      const helper = join(bin, 'docker-credential-fake')
      await writeFile(
        helper,
        '#!/bin/sh\nread server\ncase "$server" in\n  helped.example) echo \'{"Username":"h","Secret":"s1"}\' ;;\n  stored.example) echo \'{"Username":"<token>","Secret":"tok"}\' ;;\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n',
      )
      await chmod(helper, 0o755)
      const file = join(dir, 'config.json')
      await writeFile(file, JSON.stringify({ credHelpers: { 'helped.example': 'fake' }, credsStore: 'fake' }))
      const oldPath = process.env.PATH
      process.env.PATH = `${bin}:${oldPath}`
      try {
        const store = new CredentialStore({ dockerConfigPath: file })
        expect(await store.get('helped.example')).toEqual({ kind: 'basic', username: 'h', password: 's1' })
        expect(await store.get('stored.example')).toEqual({ kind: 'identity-token', username: undefined, token: 'tok' })
        expect(await store.get('nothing.example')).toBeUndefined()
      } finally {
        process.env.PATH = oldPath
      }
    })
  })

  test('auth files are searched in containers-auth.json(5) order: podman runtime, ~/.config, docker, ~/.dockercfg', async () => {
    await withTempDir(async (dir) => {
      const auth = (user: string) => ({ auth: Buffer.from(`${user}:pw`).toString('base64') })
      const write = async (path: string, body: unknown) => {
        await mkdir(join(path, '..'), { recursive: true })
        await writeFile(path, JSON.stringify(body))
      }
      const home = join(dir, 'home')
      const runtime = join(dir, 'run')
      // Every file knows all.example; each also knows one registry the files before it do not.
      await write(join(runtime, 'containers', 'auth.json'), { auths: { 'all.example': auth('runtime') } })
      await write(join(home, '.config', 'containers', 'auth.json'), {
        auths: { 'all.example': auth('config'), 'config.example': auth('config') },
      })
      await write(join(home, '.docker', 'config.json'), {
        auths: { 'all.example': auth('docker'), 'config.example': auth('docker'), 'docker.example': auth('docker') },
      })
      await write(join(home, '.dockercfg'), { 'all.example': auth('legacy'), 'legacy.example': auth('legacy') })
      const store = new CredentialStore({ env: { HOME: home, XDG_RUNTIME_DIR: runtime } })
      expect(await store.get('all.example')).toMatchObject({ username: 'runtime' })
      expect(await store.get('config.example')).toMatchObject({ username: 'config' })
      expect(await store.get('docker.example')).toMatchObject({ username: 'docker' })
      expect(await store.get('legacy.example')).toMatchObject({ username: 'legacy' })
      // XDG_CONFIG_HOME moves the second file; DOCKER_CONFIG moves docker's.
      await write(join(dir, 'xdg', 'containers', 'auth.json'), { auths: { 'docker.example': auth('xdg') } })
      const moved = new CredentialStore({
        env: { HOME: home, XDG_CONFIG_HOME: join(dir, 'xdg'), DOCKER_CONFIG: join(dir, 'nowhere') },
      })
      expect(await moved.get('docker.example')).toMatchObject({ username: 'xdg' })
      expect(await moved.get('config.example')).toBeUndefined()
    })
  })

  test('REGISTRY_AUTH_FILE wins over DOCKER_CONFIG; a broken file is named in the error', async () => {
    await withTempDir(async (dir) => {
      const podman = join(dir, 'auth.json')
      await writeFile(
        podman,
        JSON.stringify({ auths: { 'r.example': { auth: Buffer.from('p:1').toString('base64') } } }),
      )
      await mkdir(join(dir, 'docker'))
      await writeFile(
        join(dir, 'docker', 'config.json'),
        JSON.stringify({ auths: { 'r.example': { auth: Buffer.from('d:2').toString('base64') } } }),
      )
      const store = new CredentialStore({ env: { REGISTRY_AUTH_FILE: podman, DOCKER_CONFIG: join(dir, 'docker') } })
      expect(await store.get('r.example')).toMatchObject({ username: 'p' })
      await writeFile(join(dir, 'broken.json'), '{ not json')
      await expect(
        new CredentialStore({ dockerConfigPath: join(dir, 'broken.json') }).get('r.example'),
      ).rejects.toThrow(/broken\.json: not valid JSON/)
    })
  })
})
