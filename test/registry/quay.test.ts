/**
 * Quay's tag-expiry API cannot run here: these tests use a small fake of `/api/v1/repository/{repo}/tag/` that
 * answers the way Quay's API documents, behind the real client.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createRegistryClient } from '../../src/registry/index.js'
import { handleQuayExpiry } from '../../src/registry/quay.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'

describe('quay.expires-after on a released tag', () => {
  const calls: { method: string; url: string; auth: string | undefined; body: string }[] = []
  const expiring = new Set(['acme/api:released'])
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString()
    calls.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body })
    if (req.headers.authorization !== 'Bearer quay-oauth') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')
      return
    }
    const url = new URL(req.url!, 'http://quay')
    const list = /^\/api\/v1\/repository\/(.+)\/tag\/$/.exec(url.pathname)
    if (req.method === 'GET' && list) {
      const tag = url.searchParams.get('specificTag')!
      const key = `${list[1]}:${tag}`
      const entry = expiring.has(key)
        ? { name: tag, expiration: 'Fri, 04 Dec 2026 10:00:00 -0000', end_ts: 1796378400 }
        : { name: tag }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tags: [entry] }))
      return
    }
    const put = /^\/api\/v1\/repository\/(.+)\/tag\/([^/]+)$/.exec(url.pathname)
    if (req.method === 'PUT' && put && JSON.parse(body).expiration === null) {
      expiring.delete(`${put[1]}:${put[2]}`)
      res.writeHead(201, { 'content-type': 'application/json' }).end('"Updated"')
      return
    }
    res.writeHead(400).end('{"error":"bad request"}')
  })
  let quayHost: string
  let reg: TestRegistry

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    quayHost = `127.0.0.1:${(server.address() as AddressInfo).port}`
    reg = await startRegistry({ tls: false })
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await reg?.stop()
  })

  test('with a token: detects the inherited expiry and clears it with {"expiration": null}', async () => {
    const client = createRegistryClient({ plainHttp: [quayHost] })
    try {
      const repo = { registry: quayHost, path: 'acme/api' }
      const first = await handleQuayExpiry(client, repo, 'released', 'sha256:x', { token: 'quay-oauth' })
      expect(first).toEqual({ expiring: true, cleared: true, warning: undefined })
      expect(calls.map((c) => `${c.method} ${c.url.replace(/\?.*/, '')}`)).toEqual([
        'GET /api/v1/repository/acme/api/tag/',
        'PUT /api/v1/repository/acme/api/tag/released',
      ])
      expect(JSON.parse(calls[1]!.body)).toEqual({ expiration: null })
      const second = await handleQuayExpiry(client, repo, 'released', 'sha256:x', { token: 'quay-oauth' })
      expect(second).toEqual({ expiring: false, cleared: false, warning: undefined })
      await expect(handleQuayExpiry(client, repo, 'released', 'sha256:x', { token: 'wrong' })).rejects.toThrow(
        /HTTP 401/,
      )
    } finally {
      await client.close()
    }
  })

  test('without a token: the image label is read from the registry and a clear warning given', async () => {
    const digest = await reg.pushImage('acme/pr', 'on-pr-1', { labels: { 'quay.expires-after': '5d' } })
    const plain = await reg.pushImage('acme/pr', 'main-1')
    const client = createRegistryClient({ plainHttp: [reg.host] })
    try {
      const repo = { registry: reg.host, path: 'acme/pr' }
      const warned = await handleQuayExpiry(client, repo, 'released', digest, undefined)
      expect(warned.expiring).toBe(true)
      expect(warned.warning).toMatch(/quay\.expires-after=5d .*--quay-token/)
      expect((await handleQuayExpiry(client, repo, 'released', plain, undefined)).expiring).toBe(false)
    } finally {
      await client.close()
    }
  })
})
