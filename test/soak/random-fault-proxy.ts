/**
 * A proxy in front of a real registry that injects faults at random rates, for the soak (test/harness/fault-proxy.ts,
 * engineer A's, injects scripted faults for exact cases). Plain HTTP towards clients
 * (KONFLUX_GITOPS_PLAIN_HTTP=<proxy.host>), TLS towards the registry.
 *
 *   const proxy = await startRandomFaultProxy({ upstream: reg.url, ca: reg.caPem, seed: 7 })
 *   proxy.setFaults({ unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1, reset: 0.02, slowMs: [0, 20] })
 *   proxy.stats   // requests, injected faults, manifest PUTs, redundant PUTs
 *   await proxy.stop()
 *
 * It audits manifest PUTs by tag: `stats.redundantPuts` lists each successful PUT of the digest the tag already
 * pointed at (as the previous PUT, HEAD or GET through the proxy showed): the waste the releaser must never cause.
 * Bodies are buffered: manifests are small and the soak pushes its images directly to the registry.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Agent, request } from 'undici'

export interface RandomFaults {
  /** Share of requests answered 503 without reaching the registry. */
  unavailable?: number
  /** Share answered 429 with Retry-After. */
  tooManyRequests?: number
  retryAfterSeconds?: number
  /** Share whose connection is destroyed without an answer. */
  reset?: number
  /** Extra latency before forwarding, uniform in [min, max] ms. */
  slowMs?: [number, number]
}

export interface ProxyStats {
  requests: number
  forwarded: number
  injected: { unavailable: number; tooManyRequests: number; reset: number }
  manifestPuts: number
  redundantPuts: Array<{ path: string; digest: string }>
}

export interface RandomFaultProxy {
  host: string
  stats: ProxyStats
  setFaults(faults: RandomFaults): void
  stop(): Promise<void>
}

/** xorshift32: a failing soak replays with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding'])

export async function startRandomFaultProxy(options: {
  upstream: string
  ca?: string | undefined
  seed?: number
}): Promise<RandomFaultProxy> {
  let faults: RandomFaults = {}
  const random = seededRandom(options.seed ?? 42)
  const dispatcher = new Agent({ connect: options.ca ? { ca: options.ca } : {}, keepAliveTimeout: 10_000 })
  const stats: ProxyStats = {
    requests: 0,
    forwarded: 0,
    injected: { unavailable: 0, tooManyRequests: 0, reset: 0 },
    manifestPuts: 0,
    redundantPuts: [],
  }
  const pointsAt = new Map<string, string>()
  const sockets = new Set<Socket>()

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const roll = random()
    const reset = faults.reset ?? 0
    const unavailable = reset + (faults.unavailable ?? 0)
    const tooMany = unavailable + (faults.tooManyRequests ?? 0)
    if (roll < reset) {
      stats.injected.reset++
      req.socket.destroy()
      return
    }
    if (roll < unavailable) {
      stats.injected.unavailable++
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}')
      return
    }
    if (roll < tooMany) {
      stats.injected.tooManyRequests++
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(faults.retryAfterSeconds ?? 1) })
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}')
      return
    }
    const [slowMin, slowMax] = faults.slowMs ?? [0, 0]
    if (slowMax > 0) await new Promise((resolve) => setTimeout(resolve, slowMin + random() * (slowMax - slowMin)))

    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    const path = req.url ?? '/'
    const method = req.method ?? 'GET'
    const upstream = await request(`${options.upstream}${path}`, {
      method: method as 'GET',
      headers,
      dispatcher,
      ...(body.length > 0 || method === 'PUT' || method === 'POST' ? { body } : {}),
    })
    stats.forwarded++
    const payload = Buffer.from(await upstream.body.arrayBuffer())
    const manifest = /^\/v2\/(.+)\/manifests\/([^/:]+)$/.exec(path.split('?')[0]!)
    if (manifest) {
      const key = `${manifest[1]}:${manifest[2]}`
      if (method === 'PUT' && upstream.statusCode === 201) {
        stats.manifestPuts++
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
        if (pointsAt.get(key) === digest) stats.redundantPuts.push({ path: key, digest })
        pointsAt.set(key, digest)
      } else if ((method === 'HEAD' || method === 'GET') && upstream.statusCode === 200) {
        const answered = upstream.headers['docker-content-digest']
        if (typeof answered === 'string') pointsAt.set(key, answered)
      }
    }
    const responseHeaders: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value
    }
    res.writeHead(upstream.statusCode, responseHeaders)
    res.end(method === 'HEAD' ? undefined : payload)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent) res.destroy()
      else {
        res.writeHead(502)
        res.end()
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    stats,
    setFaults(next) {
      faults = next
    },
    async stop() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await dispatcher.close().catch(() => {})
    },
  }
}
