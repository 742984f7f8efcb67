/**
 * A proxy in front of a test registry that records every request and injects faults: canned responses (429/503
 * with Retry-After), corrupted bodies, dropped connections. Same TLS identity as the registry, so clients trust
 * it with the registry's CA.
 *
 *   const proxy = await startFaultProxy(reg)
 *   proxy.faults.push({ method: 'PUT', path: /manifests\/released$/, times: 2, respond: { status: 503, headers: { 'retry-after': '1' } } })
 *   proxy.faults.push({ method: 'GET', path: /manifests\/sha256:/, times: 10, corrupt: true })
 *   client against proxy.host …; proxy.requests → [{ method, path, status }]
 *   proxy.latencyMs = 50      // every request waits this long before it is forwarded: a registry far away
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import type { TestRegistry } from './registry.js'

export interface Fault {
  method?: string
  path?: RegExp
  /** Matched against the query string (without "?"). */
  query?: RegExp
  /** How many matching requests this fault applies to. */
  times: number
  respond?: { status: number; headers?: Record<string, string>; body?: string }
  /** Forward, then flip bytes in the response body. */
  corrupt?: boolean
  /** Destroy the connection without answering. */
  drop?: boolean
}

export interface ProxiedRequest {
  method: string
  path: string
  status: number
  at: number
}

export interface FaultProxy {
  host: string
  url: string
  faults: Fault[]
  requests: ProxiedRequest[]
  /** Most requests in flight at once since start (or since it was set back to 0). */
  maxInFlight: number
  /** TCP (or TLS) connections accepted since start: keep-alive shows as few connections for many requests. */
  connections: number
  /** Added to every request before it is forwarded (default 0): a remote registry's round trip on loopback. */
  latencyMs: number
  stop(): Promise<void>
}

export async function startFaultProxy(registry: TestRegistry): Promise<FaultProxy> {
  const dispatcher = new Agent({ connect: registry.caPem ? { ca: registry.caPem } : {}, keepAliveTimeout: 2000 })
  const faults: Fault[] = []
  const requests: ProxiedRequest[] = []

  let inFlight = 0
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    inFlight++
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight)
    res.on('close', () => {
      inFlight--
    })
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    if (proxy.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, proxy.latencyMs))
    const fault = faults.find(
      (f) =>
        f.times > 0 &&
        (!f.method || f.method === method) &&
        (!f.path || f.path.test(path.replace(/\?.*$/, ''))) &&
        (!f.query || f.query.test(path.includes('?') ? path.slice(path.indexOf('?') + 1) : '')),
    )
    if (fault) fault.times--
    if (fault?.drop) {
      requests.push({ method, path, status: 0, at: Date.now() })
      req.socket.destroy()
      return
    }
    if (fault?.respond) {
      requests.push({ method, path, status: fault.respond.status, at: Date.now() })
      res.writeHead(fault.respond.status, { 'content-type': 'application/json', ...fault.respond.headers })
      res.end(fault.respond.body ?? JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'injected' }] }))
      return
    }
    const headers: Record<string, string> = {}
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || key === 'connection' || key === 'transfer-encoding' || key === 'keep-alive') continue
      headers[key] = Array.isArray(value) ? value.join(', ') : value
    }
    try {
      const upstream = await request(`${registry.url}${path}`, {
        method: method as 'GET',
        headers,
        dispatcher,
        ...(body.length > 0 || method === 'PUT' || method === 'POST' || method === 'PATCH' ? { body } : {}),
      })
      let payload = Buffer.from(await upstream.body.arrayBuffer())
      if (fault?.corrupt && payload.length > 0) {
        payload = Buffer.from(payload)
        const i = Math.floor(payload.length / 2)
        payload[i] = payload[i] === 0x20 ? 0x09 : 0x20
      }
      requests.push({ method, path, status: upstream.statusCode, at: Date.now() })
      const out: Record<string, string | string[]> = {}
      for (const [key, value] of Object.entries(upstream.headers)) {
        if (value === undefined || key === 'connection' || key === 'transfer-encoding' || key === 'keep-alive') continue
        out[key] = value
      }
      res.writeHead(upstream.statusCode, out)
      res.end(method === 'HEAD' ? undefined : payload)
    } catch (error) {
      requests.push({ method, path, status: 502, at: Date.now() })
      res.writeHead(502)
      res.end(String(error))
    }
  }
  const server: Server = registry.tls
    ? createHttpsServer({ cert: registry.tls.certPem, key: registry.tls.keyPem }, handler)
    : createHttpServer(handler)
  server.on(registry.tls ? 'secureConnection' : 'connection', () => {
    proxy.connections++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const host = `127.0.0.1:${port}`
  const proxy: FaultProxy = {
    host,
    url: `${registry.tls ? 'https' : 'http'}://${host}`,
    faults,
    requests,
    maxInFlight: 0,
    connections: 0,
    latencyMs: 0,
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await dispatcher.close().catch(() => {})
    },
  }
  return proxy
}
