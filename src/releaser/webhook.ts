import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { UsageError, UserError } from '../cli/errors.js'
import { parseSnapshot, releaseGate, type Snapshot, snapshotFromObject } from '../snapshot/index.js'
import { RegistryUnavailable } from './executor.js'
import type { AcceptInput, AcceptResult, Journal, PlannedRetag } from './journal/index.js'
import { isStorageError } from './state.js'

export const SIGNATURE_HEADER = 'x-signature-256'
export const DEFAULT_BODY_LIMIT = 1024 * 1024
const ACCEPTED_TYPES = new Set(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml'])

/** `sha256=<hex>` of HMAC-SHA256(secret, body): the header value a sender puts in X-Signature-256. */
export function signBody(secret: string | Buffer, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** Constant-time check of an X-Signature-256 header against the raw body. */
export function signatureMatches(secret: Buffer, body: Buffer, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('sha256=')) return false
  const given = Buffer.from(header.slice('sha256='.length), 'hex')
  const expected = createHmac('sha256', secret).update(body).digest()
  // A wrong length (or non-hex) still costs one compare, so timing tells nothing about the secret.
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected)
    return false
  }
  return timingSafeEqual(given, expected)
}

export interface WebhookDeps {
  readonly journal: Journal
  readonly secret: Buffer
  readonly bodyLimit: number
  /**
   * Snapshot → retags (mapping applied). Throws a UserError when the mapping cannot place a component, a
   * RegistryUnavailable when the registry reads some tags need did not succeed in time (answered 503, retryable).
   */
  readonly plan: (snapshot: Snapshot) => PlannedRetag[] | Promise<PlannedRetag[]>
  /** New work was stored: let the worker claim it now rather than at the next poll. */
  readonly onAccepted: (id: string, snapshot: Snapshot, duplicate: boolean) => void
  readonly onRetried: (id: string, count: number) => void
  readonly onRejected: (status: number, reason: string) => void
  readonly onError: (error: unknown) => void
  readonly ready: () => Promise<{ ready: boolean; reasons: string[] }>
  readonly metrics: () => Promise<{ contentType: string; body: string }>
  readonly isShuttingDown: () => boolean
  /** Why the journal cannot take writes now (gone, replaced, disk full), or undefined. */
  readonly journalProblem?: () => string | undefined
  readonly onStorageError?: (error: unknown) => void
  readonly onStorageOk?: () => void
}

/** Seconds a client is asked to wait when the journal cannot take a write. */
const STORAGE_RETRY_AFTER_S = 10

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/**
 * Read the body up to `limit` bytes. Past the limit the rest is drained and dropped (so the client can read the
 * 413), and the connection is cut only when a client keeps sending far beyond it.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    const tooLarge = (detail: string) => {
      over = true
      reject(new HttpError(413, `body ${detail} is over the ${limit}-byte limit`))
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) tooLarge(`of ${declared} bytes`)
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (over) {
        if (size > limit * 8) req.destroy()
        return
      }
      if (size > limit) return tooLarge(`of more than ${limit} bytes`)
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * Names from a request, held to the rules Kubernetes and Konflux hold them to: the Snapshot's name is a DNS
 * subdomain (253), its namespace, application and component names DNS labels (63). Anything else (control
 * characters, upper case, slashes) never reaches a log line, the journal or a tag.
 */
function checkNames(snapshot: Snapshot): void {
  const bad = (what: string, value: string, rule: string) =>
    new HttpError(422, `${what} ${JSON.stringify(value).slice(0, 80)} is not a valid ${rule}`)
  if (snapshot.name.length > 253 || !DNS_SUBDOMAIN.test(snapshot.name)) {
    throw bad('metadata.name', snapshot.name, 'Kubernetes name (lower-case DNS subdomain, at most 253 characters)')
  }
  const labels: Array<[string, string | undefined]> = [
    ['metadata.namespace', snapshot.namespace],
    ['spec.application', snapshot.application],
    ...snapshot.components.map((c, i) => [`spec.components[${i}].name`, c.name] as [string, string]),
  ]
  for (const [what, value] of labels) {
    if (value === undefined) continue
    if (value.length > 63 || !DNS_LABEL.test(value)) {
      throw bad(what, value, 'name (lower-case DNS label, at most 63 characters)')
    }
  }
}

/** How far in the future a Snapshot's creationTimestamp may be (clock skew between cluster and releaser). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000

/**
 * Snapshot creation time as a comparable UTC ISO string: the daemon's queue order per tag. A Snapshot without a
 * valid one, or with one further in the future than clock skew explains, cannot be ordered and is refused: taking
 * the arrival time instead would let a late, older Snapshot win over a newer one.
 */
function creationKey(snapshot: Snapshot, now = Date.now()): string {
  // Kubernetes writes RFC 3339 times; anything else (a bare date, "yesterday") is not one.
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i
  const at =
    snapshot.createdAt === undefined || !rfc3339.test(snapshot.createdAt) ? Number.NaN : Date.parse(snapshot.createdAt)
  if (Number.isNaN(at)) {
    throw new HttpError(
      422,
      `Snapshot ${snapshot.name}: metadata.creationTimestamp is ${snapshot.createdAt === undefined ? 'missing' : 'not a valid time'}; it orders Snapshots per tag`,
    )
  }
  if (at > now + MAX_CLOCK_SKEW_MS) {
    throw new HttpError(
      422,
      `Snapshot ${snapshot.name}: metadata.creationTimestamp ${new Date(at).toISOString()} is in the future (more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of this releaser's clock)`,
    )
  }
  return new Date(at).toISOString()
}

/**
 * Group commit: requests that arrive while a commit is running are stored together in the next one, so one fsync
 * answers many of them; each still gets its 202 only after its own event is on disk.
 */
class AcceptBatcher {
  private waiting: Array<{ input: AcceptInput; resolve: (r: AcceptResult) => void; reject: (e: unknown) => void }> = []

  constructor(private readonly journal: Journal) {}

  accept(input: AcceptInput): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, resolve, reject })
      if (this.waiting.length === 1) setImmediate(() => this.flush())
    })
  }

  private flushing = false

  private flush(): void {
    if (this.flushing) return
    this.flushing = true
    const batch = this.waiting.splice(0, 512)
    this.journal
      .acceptMany(batch.map((entry) => entry.input))
      .then(
        (results) => {
          for (const [index, entry] of batch.entries()) entry.resolve(results[index]!)
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error)
        },
      )
      .finally(() => {
        this.flushing = false
        // What arrived during this commit goes in the next one, together.
        if (this.waiting.length > 0) this.flush()
      })
  }
}

/** The webhook and operations endpoints. Only the POST routes need a signature; they are the ones that act. */
export function createWebhookServer(deps: WebhookDeps): Server {
  const batcher = new AcceptBatcher(deps.journal)
  const unavailable = (message: string) => new HttpError(503, message, { 'retry-after': String(STORAGE_RETRY_AFTER_S) })
  /** A journal write for a request: refused while the journal is known broken, 503 (not 500) when storage fails. */
  async function write<T>(fn: () => T | Promise<T>): Promise<T> {
    const problem = deps.journalProblem?.()
    if (problem) throw unavailable(`${problem}; try again later`)
    try {
      const result = await fn()
      deps.onStorageOk?.()
      return result
    } catch (error) {
      if (!isStorageError(error)) throw error
      deps.onStorageError?.(error)
      throw unavailable('the journal cannot be written now (disk full or failing); try again later')
    }
  }
  async function verified(req: IncomingMessage): Promise<Buffer> {
    const body = await readBody(req, deps.bodyLimit)
    const header = req.headers[SIGNATURE_HEADER]
    if (!signatureMatches(deps.secret, body, Array.isArray(header) ? header[0] : header)) {
      throw new HttpError(401, `missing or wrong ${SIGNATURE_HEADER} signature`)
    }
    return body
  }

  async function postSnapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (!ACCEPTED_TYPES.has(type)) {
      throw new HttpError(415, `content-type must be application/json or application/yaml, not "${type || 'none'}"`)
    }
    const body = await verified(req)
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body)
    let snapshot: Snapshot
    try {
      // JSON bodies skip the YAML parser: a 10,000-component Snapshot parses in milliseconds, not seconds, and
      // /healthz keeps answering meanwhile.
      if (type === 'application/json') {
        let value: unknown
        try {
          value = JSON.parse(text)
        } catch (error) {
          throw new UsageError(`body: not valid JSON: ${(error as Error).message}`, { code: 'invalid-snapshot' })
        }
        snapshot = snapshotFromObject(value, 'body')
      } else snapshot = parseSnapshot(text, 'body')
    } catch (error) {
      const message = (error as Error).message
      const status = error instanceof UserError && message.includes('.containerImage:') ? 422 : 400
      throw new HttpError(status, message)
    }
    checkNames(snapshot)
    const createdAt = creationKey(snapshot)
    const gate = releaseGate(snapshot)
    if (!gate.releasable)
      throw new HttpError(422, `Snapshot ${snapshot.name} is not releasable: ${gate.reasons.join('; ')}`)
    let retags: PlannedRetag[]
    try {
      retags = await deps.plan(snapshot)
    } catch (error) {
      if (error instanceof RegistryUnavailable) {
        const seconds = Math.max(STORAGE_RETRY_AFTER_S, Math.ceil((error.retryAfterMs ?? 0) / 1000))
        throw new HttpError(503, `${error.message}; nothing was stored, try again later`, {
          'retry-after': String(seconds),
        })
      }
      throw new HttpError(422, (error as Error).message)
    }
    const accepted = await write(() =>
      batcher.accept({
        snapshot: snapshot.name,
        namespace: snapshot.namespace,
        application: snapshot.application,
        createdAt,
        body: text,
        source: 'webhook',
        retags,
      }),
    )
    deps.onAccepted(accepted.id, snapshot, accepted.duplicate)
    send(res, accepted.duplicate ? 200 : 202, {
      id: accepted.id,
      duplicate: accepted.duplicate,
      status: `/v1/releases/${accepted.id}`,
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://releaser')
    const path = url.pathname
    if (path === '/healthz' && req.method === 'GET') return send(res, 200, { ok: true })
    if (path === '/readyz' && req.method === 'GET') {
      const readiness = await deps.ready()
      return send(res, readiness.ready ? 200 : 503, readiness)
    }
    if (path === '/metrics' && req.method === 'GET') {
      const metrics = await deps.metrics()
      res.writeHead(200, { 'content-type': metrics.contentType })
      res.end(metrics.body)
      return
    }
    if (path === '/v1/snapshots') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST')
      if (deps.isShuttingDown()) throw new HttpError(503, 'shutting down')
      return postSnapshot(req, res)
    }
    const release = /^\/v1\/releases\/([A-Za-z0-9-]{1,64})(\/retry)?$/.exec(path)
    if (release) {
      const id = release[1]!
      if (release[2]) {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST')
        // The signed body names the release, so a signature captured for one release cannot retry another.
        const body = await verified(req)
        let named: unknown
        try {
          named = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id
        } catch {
          named = undefined
        }
        if (named !== id) throw new HttpError(400, `the signed body must be {"id": "${id}"}, naming this release`)
        const count = await write(() => deps.journal.retry(id))
        if (count < 0) throw new HttpError(404, `no release ${id}`)
        deps.onRetried(id, count)
        return send(res, 202, { id, retried: count })
      }
      if (req.method !== 'GET') throw new HttpError(405, 'use GET')
      const record = await deps.journal.release(id)
      if (!record) throw new HttpError(404, `no release ${id}`)
      return send(res, 200, record)
    }
    throw new HttpError(404, `no route ${req.method} ${path}`)
  }

  return createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : error instanceof TypeError ? 400 : 500
      const message =
        error instanceof HttpError
          ? error.message
          : error instanceof TypeError
            ? 'body is not valid UTF-8'
            : 'internal error'
      if ((status >= 400 && status < 500) || status === 503) deps.onRejected(status, message)
      if (res.headersSent) {
        res.destroy()
        return
      }
      send(res, status, { error: message }, error instanceof HttpError ? error.headers : {})
      if (status === 500) deps.onError(error)
    })
  })
}
