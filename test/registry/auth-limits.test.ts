import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyToTag, createRegistryClient } from '../../src/registry/index.js'
import { executeRetags } from '../../src/release/index.js'
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { TOKEN_SERVICE } from '../harness/token-server.js'

describe('tokens and limits', () => {
  let reg: TestRegistry
  let proxy: FaultProxy

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' })
    proxy = await startFaultProxy(reg)
    await reg.addAuthHost(proxy.host)
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  test('tokens are reused; one the registry rejects (expired, revoked) is dropped and a new one fetched', async () => {
    const digest = await reg.pushImage('acme/api', 'b1')
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath })
    try {
      const source = { registry: proxy.host, path: 'acme/api', digest }
      const target = { registry: proxy.host, path: 'acme/api' }
      await copyToTag(client, source, target, 'one')
      const tokens = reg.tokenServer!.requests.length
      await copyToTag(client, source, target, 'two')
      expect(reg.tokenServer!.requests.length).toBe(tokens)
      proxy.faults.push({
        method: 'HEAD',
        path: /manifests\/three$/,
        times: 1,
        respond: {
          status: 401,
          headers: {
            'www-authenticate': `Bearer realm="${reg.tokenServer!.realm}",service="${TOKEN_SERVICE}",scope="repository:acme/api:pull,push",error="invalid_token"`,
          },
        },
      })
      await copyToTag(client, source, target, 'three')
      expect(reg.tokenServer!.requests.length).toBe(tokens + 1)
      expect(await reg.resolveTag('acme/api', 'three')).toBe(digest)
    } finally {
      proxy.faults.length = 0
      await client.close()
    }
  })

  test('the per-registry limit bounds requests in flight across parallel repositories', async () => {
    const retags = []
    for (let i = 0; i < 12; i++) {
      const digest = await reg.pushImage(`acme/r${i}`, 'b1')
      retags.push({
        component: `c${i}`,
        source: { registry: proxy.host, path: `acme/r${i}`, digest },
        target: { registry: proxy.host, path: `acme/r${i}` },
        tag: 'released',
      })
    }
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath, concurrency: 3 })
    proxy.maxInFlight = 0
    try {
      const outcomes = await executeRetags(retags, client, { concurrency: 12 })
      expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill('moved'))
    } finally {
      await client.close()
    }
    expect(proxy.maxInFlight).toBeGreaterThan(1)
    expect(proxy.maxInFlight).toBeLessThanOrEqual(3)
  })
})
