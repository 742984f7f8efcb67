/**
 * A thin fake Kubernetes API server for the releaser's Kubernetes source: Snapshots and ReleasePlans
 * (appstudio.redhat.com/v1alpha1) with list, watch from a resourceVersion, bookmarks and 410 Gone after compaction,
 * and coordination.k8s.io Leases with optimistic concurrency (409 on a stale resourceVersion). Bearer token auth.
 *
 *   const api = await startFakeKubeApi()
 *   api.put(snapshotObject)            // ADDED or MODIFIED, new resourceVersion
 *   api.compact()                      // watches from an older resourceVersion now get 410 Gone
 *   await api.writeKubeconfig(file)
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

type Obj = {
  apiVersion?: string
  kind?: string
  metadata: Record<string, unknown> & { name: string; namespace?: string }
}
interface WatchEvent {
  rv: number
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  plural: string
  object: Obj
}
interface Watcher {
  plural: string
  namespace: string | undefined
  selector: Record<string, string>
  bookmarks: boolean
  res: ServerResponse
}

export interface FakeKubeApi {
  url: string
  token: string
  /** Requests by `METHOD path` (no query), for assertions. */
  requests: string[]
  leaseUpdates: Array<{ holder: string | undefined; status: number }>
  /** Answer the next N ReleasePlan lists with 500 (an API server hiccup). */
  failReleasePlanLists(times: number): void
  put(object: Obj, plural?: string): number
  compact(): void
  lease(namespace: string, name: string): Obj | undefined
  writeKubeconfig(file: string): Promise<void>
  stop(): Promise<void>
}

function labelsMatch(object: Obj, selector: Record<string, string>): boolean {
  const labels = (object.metadata.labels ?? {}) as Record<string, string>
  return Object.entries(selector).every(([key, value]) => labels[key] === value)
}

function parseSelector(value: string | null): Record<string, string> {
  const selector: Record<string, string> = {}
  for (const part of (value ?? '').split(',').filter(Boolean)) {
    const [key, val] = part.split('=')
    selector[key!.trim()] = (val ?? '').trim()
  }
  return selector
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const token = randomBytes(16).toString('hex')
  let resourceVersion = 100
  let compactedBelow = 0
  const store = new Map<string, Obj>()
  const events: WatchEvent[] = []
  const watchers = new Set<Watcher>()
  const requests: string[] = []
  const leaseUpdates: FakeKubeApi['leaseUpdates'] = []
  const sockets = new Set<Socket>()
  let releasePlanFailures = 0

  const key = (plural: string, namespace: string | undefined, name: string) => `${plural}/${namespace ?? ''}/${name}`

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  function status(res: ServerResponse, code: number, reason: string, message: string): void {
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code })
  }
  function deliver(watcher: Watcher, event: WatchEvent): void {
    if (watcher.plural !== event.plural) return
    if (watcher.namespace && watcher.namespace !== event.object.metadata.namespace) return
    if (!labelsMatch(event.object, watcher.selector)) return
    watcher.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`)
  }

  function put(object: Obj, plural = 'snapshots'): number {
    const k = key(plural, object.metadata.namespace, object.metadata.name)
    const type = store.has(k) ? 'MODIFIED' : 'ADDED'
    resourceVersion++
    const stored: Obj = {
      ...object,
      metadata: {
        ...object.metadata,
        resourceVersion: String(resourceVersion),
        creationTimestamp: object.metadata.creationTimestamp ?? new Date().toISOString(),
      },
    }
    store.set(k, stored)
    const event: WatchEvent = { rv: resourceVersion, type, plural, object: stored }
    events.push(event)
    for (const watcher of watchers) deliver(watcher, event)
    return resourceVersion
  }

  async function readJson(req: IncomingMessage): Promise<Obj> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    requests.push(`${req.method} ${url.pathname}`)
    if (req.headers.authorization !== `Bearer ${token}`) return status(res, 401, 'Unauthorized', 'Unauthorized')

    const custom =
      /^\/apis\/appstudio\.redhat\.com\/v1alpha1\/(?:namespaces\/([^/]+)\/)?(snapshots|releaseplans)$/.exec(
        url.pathname,
      )
    if (custom && req.method === 'GET') {
      const namespace = custom[1]
      const plural = custom[2]!
      const selector = parseSelector(url.searchParams.get('labelSelector'))
      if (plural === 'releaseplans' && releasePlanFailures > 0) {
        releasePlanFailures--
        return status(res, 500, 'InternalError', 'etcdserver: request timed out')
      }
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        const from = Number(url.searchParams.get('resourceVersion') ?? resourceVersion)
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
        if (from < compactedBelow) {
          res.end(
            `${JSON.stringify({
              type: 'ERROR',
              object: {
                kind: 'Status',
                apiVersion: 'v1',
                status: 'Failure',
                reason: 'Expired',
                code: 410,
                message: `too old resource version: ${from} (${compactedBelow})`,
              },
            })}\n`,
          )
          return
        }
        const watcher: Watcher = {
          plural,
          namespace,
          selector,
          bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
          res,
        }
        for (const event of events) if (event.rv > from) deliver(watcher, event)
        watchers.add(watcher)
        const bookmark = setInterval(() => {
          if (!watcher.bookmarks) return
          res.write(
            `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Snapshot', apiVersion: 'appstudio.redhat.com/v1alpha1', metadata: { resourceVersion: String(resourceVersion) } } })}\n`,
          )
        }, 1000)
        const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0)
        const closer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
        res.on('close', () => {
          clearInterval(bookmark)
          if (closer) clearTimeout(closer)
          watchers.delete(watcher)
        })
        return
      }
      const items = [...store.entries()]
        .filter(([k]) => k.startsWith(`${plural}/`))
        .map(([, object]) => object)
        .filter((object) => !namespace || object.metadata.namespace === namespace)
        .filter((object) => labelsMatch(object, selector))
      return send(res, 200, {
        apiVersion: 'appstudio.redhat.com/v1alpha1',
        kind: plural === 'snapshots' ? 'SnapshotList' : 'ReleasePlanList',
        metadata: { resourceVersion: String(resourceVersion) },
        items,
      })
    }

    const leases = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(url.pathname)
    if (leases) {
      const namespace = leases[1]!
      if (req.method === 'GET' && leases[2]) {
        const lease = store.get(key('leases', namespace, leases[2]))
        return lease ? send(res, 200, lease) : status(res, 404, 'NotFound', `leases "${leases[2]}" not found`)
      }
      if (req.method === 'POST' && !leases[2]) {
        const body = await readJson(req)
        const k = key('leases', namespace, body.metadata.name)
        const holder = (body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity
        if (store.has(k)) {
          leaseUpdates.push({ holder, status: 409 })
          return status(res, 409, 'AlreadyExists', `leases "${body.metadata.name}" already exists`)
        }
        put(
          { ...body, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...body.metadata, namespace } },
          'leases',
        )
        leaseUpdates.push({ holder, status: 201 })
        return send(res, 201, store.get(k))
      }
      if (req.method === 'PUT' && leases[2]) {
        const body = await readJson(req)
        const k = key('leases', namespace, leases[2])
        const current = store.get(k)
        const holder = (body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity
        if (!current) return status(res, 404, 'NotFound', `leases "${leases[2]}" not found`)
        if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
          leaseUpdates.push({ holder, status: 409 })
          return status(
            res,
            409,
            'Conflict',
            'the object has been modified; please apply your changes to the latest version',
          )
        }
        put(
          { ...body, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...body.metadata, namespace } },
          'leases',
        )
        leaseUpdates.push({ holder, status: 200 })
        return send(res, 200, store.get(k))
      }
    }
    return status(res, 404, 'NotFound', `no route ${req.method} ${url.pathname}`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => status(res, 500, 'InternalError', (error as Error).message))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    token,
    requests,
    leaseUpdates,
    failReleasePlanLists(times) {
      releasePlanFailures = times
    },
    put,
    compact() {
      compactedBelow = resourceVersion + 1
      events.length = 0
      // Real API servers end open watches that fall behind compaction; clients resume and meet the 410.
      for (const watcher of watchers) watcher.res.end()
    },
    lease: (namespace, name) => store.get(key('leases', namespace, name)),
    async writeKubeconfig(file) {
      await writeFile(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          // Plain HTTP on loopback: client-node only allows http:// with skip-TLS-verify set.
          clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'releaser', user: { token } }],
          contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'releaser' } }],
          'current-context': 'fake',
        }),
      )
    },
    async stop() {
      for (const watcher of watchers) watcher.res.end()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
