import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyToTag, createRegistryClient, type RegistryClient } from '../../src/registry/index.js'
import { executeRetags } from '../../src/release/index.js'
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'

describe('promotion to another repository (token auth, through a recording proxy)', () => {
  let reg: TestRegistry
  let proxy: FaultProxy
  let client: RegistryClient

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' })
    proxy = await startFaultProxy(reg)
    await reg.addAuthHost(proxy.host)
    client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath, retryBaseMs: 50 })
  })
  afterAll(async () => {
    await client?.close()
    await proxy?.stop()
    await reg?.stop()
  })

  test('a 2-platform index is promoted whole: blobs mounted, children before the index, digest unchanged', async () => {
    const digest = await reg.pushImage('tenant/web', 'build-7', { platforms: ['linux/amd64', 'linux/arm64'] })
    const before = proxy.requests.length
    const outcome = await copyToTag(
      client,
      { registry: proxy.host, path: 'tenant/web', digest },
      { registry: proxy.host, path: 'prod/web' },
      'released',
    )
    expect(outcome).toMatchObject({ status: 'moved', digest, mediaType: 'application/vnd.oci.image.index.v1+json' })
    expect(await reg.resolveTag('prod/web', 'released')).toBe(digest)
    const calls = proxy.requests.slice(before).filter((r) => r.status !== 401)
    const mounts = calls.filter((r) => r.method === 'POST' && r.path.includes('mount='))
    // 2 platforms × (config + layer), all answered 201 Created by a mount; no blob bytes uploaded.
    expect(mounts.map((r) => r.status)).toEqual([201, 201, 201, 201])
    expect(calls.filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toEqual([])
    const manifestPuts = calls.filter((r) => r.method === 'PUT').map((r) => r.path.replace(/.*\/manifests\//, ''))
    expect(manifestPuts.at(-1)).toBe('released')
    expect(manifestPuts.slice(0, -1).every((ref) => ref.startsWith('sha256:'))).toBe(true)
    for (const child of JSON.parse((await reg.getManifest('prod/web', digest))!.bytes.toString()).manifests) {
      expect(await reg.getManifest('prod/web', child.digest)).toBeDefined()
    }
  })

  test('a cosign .sig tag and an OCI referrer (fallback tag) follow the image', async () => {
    const digest = await reg.pushImage('tenant/api', 'build-3')
    const signature = await reg.pushSignature('tenant/api', digest)
    const sbom = await reg.pushReferrer('tenant/api', digest)
    const outcome = await copyToTag(
      client,
      { registry: reg.host, path: 'tenant/api', digest },
      { registry: reg.host, path: 'prod/api' },
      'released',
    )
    const sigTag = `${digest.replace(':', '-')}.sig`
    expect(outcome.followed).toEqual(expect.arrayContaining([sigTag, sbom, digest.replace(':', '-')]))
    expect(await reg.resolveTag('prod/api', sigTag)).toBe(signature)
    expect(await reg.getManifest('prod/api', sbom)).toBeDefined()
    const fallback = await reg.getManifest('prod/api', digest.replace(':', '-'))
    expect(JSON.parse(fallback!.bytes.toString()).manifests.map((m: { digest: string }) => m.digest)).toEqual([sbom])
    // The blobs of the signature came along too: its payload layer is readable in the target.
    const sigManifest = JSON.parse((await reg.getManifest('prod/api', signature))!.bytes.toString())
    expect(await reg.blobExists('prod/api', sigManifest.layers[0].digest)).toBe(true)

    const again = await copyToTag(
      client,
      { registry: reg.host, path: 'tenant/api', digest },
      { registry: reg.host, path: 'prod/api' },
      'released',
    )
    expect(again.status).toBe('unchanged')
  })
})

describe('several tags of one digest into another repository', () => {
  test('content and signature are copied with the first tag; the other tags cost their check and PUT', async () => {
    const reg = await startRegistry({ tls: false })
    const proxy = await startFaultProxy(reg)
    const client = createRegistryClient({ plainHttp: [proxy.host] })
    try {
      const digest = await reg.pushImage('build/api', 'b1')
      await reg.pushSignature('build/api', digest)
      const tags = ['released', 'stable', 'v1']
      const before = proxy.requests.length
      const outcomes = await executeRetags(
        tags.map((tag) => ({
          component: 'api',
          source: { registry: proxy.host, path: 'build/api', digest },
          target: { registry: proxy.host, path: 'prod/api' },
          tag,
        })),
        client,
      )
      expect(outcomes.map((o) => o.status)).toEqual(['moved', 'moved', 'moved'])
      expect(outcomes[0]!.followed).toContain(`${digest.replace(':', '-')}.sig`)
      for (const tag of tags) expect(await reg.resolveTag('prod/api', tag)).toBe(digest)
      const calls = proxy.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`)
      // The second and third tag: HEAD the tag, PUT it; no second look at content, signatures or referrers.
      const firstPut = calls.indexOf('PUT /v2/prod/api/manifests/released')
      expect(calls.slice(firstPut + 1).filter((c) => !/manifests\/(stable|v1)$/.test(c))).toEqual([])
      expect(calls.filter((c) => c === 'PUT /v2/prod/api/manifests/stable')).toHaveLength(1)
    } finally {
      await client.close()
      await proxy.stop()
      await reg.stop()
    }
  })
})

describe('many new tags in one repository', () => {
  test('after two new tags one tag list stands in for the HEADs; an existing tag is still checked and not moved back; a re-run only HEADs', async () => {
    const reg = await startRegistry({ tls: false })
    const proxy = await startFaultProxy(reg)
    const client = createRegistryClient({ plainHttp: [proxy.host] })
    try {
      const old = await reg.pushImage('acme/api', 'b0', { created: '2026-01-01T00:00:00Z' })
      const newer = await reg.pushImage('acme/api', 'b1', { created: '2026-06-01T00:00:00Z' })
      await reg.moveTag('acme/api', 'v5', newer)
      const tags = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']
      const retags = tags.map((tag) => ({
        component: 'api',
        source: { registry: proxy.host, path: 'acme/api', digest: old },
        target: { registry: proxy.host, path: 'acme/api' },
        tag,
      }))
      const calls = async (run: () => Promise<unknown>) => {
        const before = proxy.requests.length
        await run()
        return proxy.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`)
      }
      let outcomes: Awaited<ReturnType<typeof executeRetags>> = []
      const first = await calls(async () => {
        outcomes = await executeRetags(retags, client, { concurrency: 1 })
      })
      expect(outcomes.map((o) => o.status)).toEqual(tags.map((t) => (t === 'v5' ? 'refused' : 'moved')))
      expect(outcomes[5]!.error?.code).toBe('older-build')
      expect(await reg.resolveTag('acme/api', 'v5')).toBe(newer)
      // Once (again only if the machine is so slow that the list is older than 500 ms before the last tags).
      expect(first.filter((c) => c.endsWith('/tags/list')).length).toBeGreaterThan(0)
      const heads = first.filter((c) => c.startsWith('HEAD /v2/acme/api/manifests/v'))
      // v0..v2 before the list; v5 because the list has it; none of the other new tags.
      expect(heads).toEqual(['v0', 'v1', 'v2', 'v5'].map((t) => `HEAD /v2/acme/api/manifests/${t}`))

      const again = await calls(() => executeRetags(retags, client, { concurrency: 1 }))
      expect(again.filter((c) => c.endsWith('/tags/list'))).toEqual([])
      expect(again.filter((c) => c.startsWith('PUT'))).toEqual([])
    } finally {
      await client.close()
      await proxy.stop()
      await reg.stop()
    }
  })
})

describe('a registry with the referrers API (simulated by the proxy in front of distribution 2.8)', () => {
  test('referrers listed by the API are copied, and no fallback tag is written', async () => {
    const reg = await startRegistry({ tls: false })
    const proxy = await startFaultProxy(reg)
    const client = createRegistryClient({ plainHttp: [proxy.host] })
    try {
      const digest = await reg.pushImage('tenant/db', 'b1')
      const sbom = await reg.pushReferrer('tenant/db', digest, 'application/spdx+json')
      const descriptor = (await reg.getManifest('tenant/db', sbom))!
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: descriptor.mediaType,
            digest: sbom,
            size: descriptor.bytes.length,
            artifactType: 'application/spdx+json',
          },
        ],
      })
      proxy.faults.push({
        method: 'GET',
        path: /\/referrers\/sha256:/,
        times: 10,
        respond: { status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: index },
      })
      const outcome = await copyToTag(
        client,
        { registry: proxy.host, path: 'tenant/db', digest },
        { registry: proxy.host, path: 'prod/db' },
        'released',
      )
      expect(outcome.followed).toEqual([sbom])
      expect(await reg.getManifest('prod/db', sbom)).toBeDefined()
      expect(await reg.resolveTag('prod/db', digest.replace(':', '-'))).toBeUndefined()
    } finally {
      await client.close()
      await proxy.stop()
      await reg.stop()
    }
  })
})

describe('faults between client and registry', () => {
  let reg: TestRegistry
  let proxy: FaultProxy

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' })
    proxy = await startFaultProxy(reg)
    await reg.addAuthHost(proxy.host)
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  test('429 and 503 with Retry-After are retried after the time the registry asked for', async () => {
    const digest = await reg.pushImage('acme/api', 'b1')
    const warnings: string[] = []
    const client = createRegistryClient({
      ca: reg.caPem!,
      dockerConfigPath: reg.dockerConfigPath,
      onWarning: (w) => warnings.push(w),
    })
    proxy.faults.push(
      {
        method: 'HEAD',
        path: /manifests\/released$/,
        times: 1,
        respond: { status: 429, headers: { 'retry-after': '1' } },
      },
      {
        method: 'PUT',
        path: /manifests\/released$/,
        times: 1,
        respond: { status: 503, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } },
      },
    )
    const before = proxy.requests.length
    try {
      const outcome = await copyToTag(
        client,
        { registry: proxy.host, path: 'acme/api', digest },
        { registry: proxy.host, path: 'acme/api' },
        'released',
      )
      expect(outcome.status).toBe('moved')
    } finally {
      await client.close()
    }
    const calls = proxy.requests.slice(before).filter((r) => r.status !== 401)
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual([
      'HEAD 429',
      'HEAD 404',
      'GET 200',
      'PUT 503',
      'PUT 201',
    ])
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950)
    // HTTP-date Retry-After has one-second resolution: at least ~0.5 s must have passed.
    expect(calls[4]!.at - calls[3]!.at).toBeGreaterThanOrEqual(450)
    expect(warnings.join('\n')).toMatch(/HTTP 429.*Retry-After/)
    expect(await reg.resolveTag('acme/api', 'released')).toBe(digest)
  })

  test('a corrupted manifest body is never PUT: re-read, then refused with nothing written', async () => {
    const digest = await reg.pushImage('acme/web', 'b1')
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath })
    try {
      // Corrupt once: the client reads again and writes the verified bytes.
      proxy.faults.push({ method: 'GET', path: new RegExp(`manifests/${digest}$`), times: 1, corrupt: true })
      const before = proxy.requests.length
      const healed = await copyToTag(
        client,
        { registry: proxy.host, path: 'acme/web', digest },
        { registry: proxy.host, path: 'acme/web' },
        'healed',
      )
      expect(healed.status).toBe('moved')
      expect(proxy.requests.slice(before).filter((r) => r.method === 'GET')).toHaveLength(2)
      expect(await reg.resolveTag('acme/web', 'healed')).toBe(digest)

      // Corrupt every time: refused, and no PUT ever reached the registry.
      proxy.faults.push({ method: 'GET', path: new RegExp(`manifests/${digest}$`), times: 100, corrupt: true })
      const mark = proxy.requests.length
      await expect(
        copyToTag(
          client,
          { registry: proxy.host, path: 'acme/web', digest },
          { registry: proxy.host, path: 'acme/web' },
          'corrupt',
        ),
      ).rejects.toMatchObject({ code: 'registry-digest-mismatch' })
      expect(proxy.requests.slice(mark).filter((r) => r.method === 'PUT')).toEqual([])
      expect(await reg.resolveTag('acme/web', 'corrupt')).toBeUndefined()
    } finally {
      proxy.faults.length = 0
      await client.close()
    }
  })

  test('a dropped connection is retried', async () => {
    const digest = await reg.pushImage('acme/drop', 'b1')
    const client = createRegistryClient({ ca: reg.caPem!, dockerConfigPath: reg.dockerConfigPath, retryBaseMs: 20 })
    proxy.faults.push({ method: 'GET', path: /manifests\/sha256:/, times: 1, drop: true })
    try {
      const outcome = await copyToTag(
        client,
        { registry: proxy.host, path: 'acme/drop', digest },
        { registry: proxy.host, path: 'acme/drop' },
        'released',
      )
      expect(outcome.status).toBe('moved')
    } finally {
      proxy.faults.length = 0
      await client.close()
    }
  })
})

describe('blob copies when a mount is not possible', () => {
  let a: TestRegistry
  let b: TestRegistry
  let proxy: FaultProxy

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startRegistry({ tls: false }), startRegistry({ tls: false })])
    proxy = await startFaultProxy(a)
  })
  afterAll(async () => {
    await proxy?.stop()
    await Promise.all([a?.stop(), b?.stop()])
  })

  test('a mount answered 202 is cancelled and the blob uploaded', async () => {
    const digest = await a.pushImage('src/api', 'b1')
    proxy.faults.push({
      method: 'POST',
      path: /blobs\/uploads\/$/,
      query: /mount=/,
      times: 2,
      respond: { status: 202, headers: { location: '/v2/dst/api/blobs/uploads/declined-mount' }, body: '' },
    })
    const client = createRegistryClient({ plainHttp: [proxy.host] })
    const before = proxy.requests.length
    try {
      const outcome = await copyToTag(
        client,
        { registry: proxy.host, path: 'src/api', digest },
        { registry: proxy.host, path: 'dst/api' },
        'released',
      )
      expect(outcome.status).toBe('moved')
    } finally {
      await client.close()
    }
    const calls = proxy.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`)
    expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([
      'DELETE /v2/dst/api/blobs/uploads/declined-mount',
      'DELETE /v2/dst/api/blobs/uploads/declined-mount',
    ])
    expect(calls.filter((c) => c.startsWith('GET /v2/src/api/blobs/'))).toHaveLength(2)
    expect(await a.resolveTag('dst/api', 'released')).toBe(digest)
  })

  test('promotion to another registry streams blobs and keeps the index digest', async () => {
    const digest = await a.pushImage('src/web', 'b1', { platforms: ['linux/amd64', 'linux/arm64'], format: 'docker' })
    const client = createRegistryClient({ plainHttp: [a.host, b.host] })
    try {
      const outcome = await copyToTag(
        client,
        { registry: a.host, path: 'src/web', digest },
        { registry: b.host, path: 'prod/web' },
        'released',
      )
      expect(outcome).toMatchObject({
        status: 'moved',
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      })
    } finally {
      await client.close()
    }
    expect(await b.resolveTag('prod/web', 'released')).toBe(digest)
  })
})
