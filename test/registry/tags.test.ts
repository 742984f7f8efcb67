import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRegistryClient, nextPage } from '../../src/registry/index.js'
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'

describe('GET /v2/<name>/tags/list with pagination (docker-registry, token auth)', () => {
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

  test('a repository that is not paginated (docker-registry 2.8 answers in one page): every tag, 404 is none', async () => {
    const digest = await reg.pushImage('acme/api', 'v1.0.0-1')
    for (const tag of ['v1.0.0-2', 'v1.0.0-10', 'released']) await reg.moveTag('acme/api', tag, digest)
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath })
    try {
      const listed = await client.listTags({ registry: proxy.host, path: 'acme/api' }, { pageSize: 2 })
      expect([...listed].sort()).toEqual(['released', 'v1.0.0-1', 'v1.0.0-10', 'v1.0.0-2'])
      expect(await client.listTags({ registry: proxy.host, path: 'acme/never-pushed' })).toEqual([])
    } finally {
      await client.close()
    }
  })

  test('a paginating registry: pages are followed by their Link header until there is none', async () => {
    // docker-registry 2.8 does not paginate tags/list (distribution 3 does): the proxy answers the pages as a
    // paginating registry would, after the client got its token from the real token server.
    const page = (tags: string[], next?: string) => ({
      status: 200,
      headers: {
        'content-type': 'application/json',
        ...(next ? { link: `</v2/acme/paged/tags/list?n=2&last=${next}>; rel="next"` } : {}),
      },
      body: JSON.stringify({ name: 'acme/paged', tags }),
    })
    await reg.pushImage('acme/paged', 'a')
    proxy.faults.push(
      {
        method: 'GET',
        path: /\/v2\/acme\/paged\/tags\/list$/,
        query: /^n=2$/,
        times: 1,
        respond: page(['a', 'b'], 'b'),
      },
      { method: 'GET', path: /\/tags\/list$/, query: /last=b$/, times: 1, respond: page(['c', 'd'], 'd') },
      { method: 'GET', path: /\/tags\/list$/, query: /last=d$/, times: 1, respond: page(['e']) },
    )
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath })
    try {
      expect(await client.listTags({ registry: proxy.host, path: 'acme/paged' }, { pageSize: 2 })).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ])
    } finally {
      await client.close()
    }
  })

  test('Link headers: relative or absolute, with other relations', () => {
    expect(nextPage('</v2/a/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/a/tags/list?n=2&last=b')
    expect(nextPage('<https://r.example.com/v2/a/tags/list?last=b&n=2>; rel="next"')).toBe('/v2/a/tags/list?last=b&n=2')
    expect(nextPage('</x>; rel="prev", </v2/a/tags/list?last=c>; rel="next"')).toBe('/v2/a/tags/list?last=c')
    expect(nextPage(undefined)).toBeUndefined()
    expect(nextPage('</x>; rel="prev"')).toBeUndefined()
  })
})
