/**
 * HTTP to OCI registries: keep-alive (one undici Agent per client), a concurrency limit per registry (p-queue),
 * retries with exponential backoff and full jitter that honour Retry-After, and the Docker auth flow (anonymous,
 * Basic, Bearer challenge with a token cache shared by every request of the client).
 *
 * Hand-written on undici because no maintained npm client covers push, cross-repository mount, referrers and
 * whole-index copies together; the protocol parts are thin.
 */
import type { Readable } from 'node:stream'
import { type BackoffPolicy, backoffMs } from './backoff.js'
import { CredentialStore, type Credentials } from './credentials.js'
import { describeRegistryBody, RegistryError } from './errors.js'

type UndiciModule = typeof import('undici')
type Dispatcher = import('undici').Dispatcher
type PQueueClass = typeof import('p-queue').default

export interface RequestEvent {
  registry: string
  method: string
  path: string
  /** HTTP status, or 0 when the connection failed. */
  status: number
  attempt: number
  durationMs: number
}

export interface TransportOptions {
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  ca?: string | string[]
  /** One docker/podman auth file instead of the usual search (REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker). */
  dockerConfigPath?: string
  env?: NodeJS.ProcessEnv
  /** Credentials that win over auth files, e.g. from flags. */
  credentials?: (registry: string) => Credentials | undefined
  /**
   * Registries spoken to over plain HTTP (true: all). Also KONFLUX_GITOPS_PLAIN_HTTP=host:port,… in env.
   * Only for loopback test registries; real registries need TLS.
   */
  plainHttp?: boolean | string[]
  /**
   * One request may wait this long for the connection, for the response headers, and between body chunks
   * (default undici's: 10 s to connect, 300 s otherwise). A stalled registry then fails the request (retried).
   */
  requestTimeoutMs?: number
  /** In-flight requests per registry (default 16). */
  concurrency?: number
  /** Retries after the first attempt (default 5). */
  retries?: number
  /** First backoff step in ms (default 200); doubles per attempt with full jitter. */
  retryBaseMs?: number
  /** Upper bound of one wait, including Retry-After (default 30 s). */
  maxRetryDelayMs?: number
  userAgent?: string
  /**
   * Token realms (host or host:port) credentials may be sent to besides the registry's own host, e.g. a separate
   * auth server. Also KONFLUX_GITOPS_TOKEN_REALMS=host,… in env. auth.docker.io for Docker Hub is built in.
   */
  tokenRealms?: string[]
  onRequest?: (event: RequestEvent) => void
  onWarning?: (message: string) => void
}

export interface Access {
  /** Repository path inside the registry. */
  repository: string
  actions: ('pull' | 'push')[]
}

export interface SendOptions {
  headers?: Record<string, string>
  body?: Buffer | string | Readable
  access: Access[]
  /** Statuses the caller handles itself (never retried, never thrown). */
  accept?: number[]
  /** Body cannot be replayed (a stream): no retry after it was sent. */
  once?: boolean
  /** Send this Authorization (or none, with null) instead of the registry's auth flow: for vendor APIs like Quay's. */
  authorization?: string | null
}

export interface Response {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: import('undici').Dispatcher.ResponseData['body']
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504])
const RETRY_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
])

type AuthState =
  | { scheme: 'unknown'; discovering: Promise<void> | undefined }
  | { scheme: 'none' }
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service: string | undefined }

interface CachedToken {
  grants: Map<string, Set<string>>
  token: string
  expiresAt: number
}

/** `Bearer realm="…",service="…",scope="…"` → parameters (quoted values may contain commas). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header)
  if (!match) return undefined
  const params: Record<string, string> = {}
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g
  for (let m = re.exec(match[2] ?? ''); m; m = re.exec(match[2] ?? '')) {
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1')
  }
  return { scheme: match[1]!.toLowerCase(), params }
}

/** Retry-After as seconds or an HTTP date → milliseconds to wait (undefined when absent or unreadable). */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function header(headers: Response['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function scopeKey(access: Access[]): string {
  return access
    .map((a) => `repository:${a.repository}:${[...new Set(a.actions)].sort().join(',')}`)
    .sort()
    .join(' ')
}

export class Transport {
  private undici: Promise<{ undici: UndiciModule; dispatcher: Dispatcher; PQueue: PQueueClass }> | undefined
  private readonly queues = new Map<string, InstanceType<PQueueClass>>()
  private readonly auth = new Map<string, AuthState>()
  private readonly tokens = new Map<string, CachedToken[]>()
  private readonly tokenFetches = new Map<string, Promise<CachedToken>>()
  readonly credentials: CredentialStore
  private readonly plainHttp: Set<string> | true

  constructor(private readonly options: TransportOptions = {}) {
    this.credentials = new CredentialStore(
      {
        ...(options.dockerConfigPath === undefined ? {} : { dockerConfigPath: options.dockerConfigPath }),
        ...(options.env === undefined ? {} : { env: options.env }),
      },
      options.credentials,
    )
    const env = options.env ?? process.env
    const fromEnv = (env.KONFLUX_GITOPS_PLAIN_HTTP ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    if (options.plainHttp === true) this.plainHttp = true
    else this.plainHttp = new Set([...(options.plainHttp || []), ...fromEnv])
  }

  /** Heavy modules load on first use so commands that never touch a registry start fast. */
  private load() {
    this.undici ??= (async () => {
      const undici = await import('undici')
      const { default: PQueue } = await import('p-queue')
      const { rootCertificates } = await import('node:tls')
      const extra = this.options.ca === undefined ? [] : [this.options.ca].flat()
      const envCa = (this.options.env ?? process.env).NODE_EXTRA_CA_CERTS
      const { readFileSync } = await import('node:fs')
      let envPem: string[] = []
      try {
        envPem = envCa ? [readFileSync(envCa, 'utf8')] : []
      } catch {
        // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS; the bundled roots still apply.
      }
      const ca = extra.length > 0 ? [...rootCertificates, ...envPem, ...extra] : undefined
      const timeout = this.options.requestTimeoutMs
      const agent = new undici.Agent({
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
        ...(timeout === undefined ? {} : { headersTimeout: timeout, bodyTimeout: timeout }),
        connect: { ...(ca ? { ca } : {}), ...(timeout === undefined ? {} : { timeout: Math.min(timeout, 10_000) }) },
      })
      const dispatcher = agent.compose(undici.interceptors.redirect({ maxRedirections: 5 }))
      return { undici, dispatcher, PQueue }
    })()
    return this.undici
  }

  origin(registry: string): string {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry
    const plain = this.plainHttp === true || this.plainHttp.has(registry)
    return `${plain ? 'http' : 'https'}://${host}`
  }

  /** Quick in-process retries: short waits, and a Retry-After is honoured up to the same bound. */
  private backoffPolicy(): BackoffPolicy {
    const maxMs = this.options.maxRetryDelayMs ?? 30_000
    return { baseMs: this.options.retryBaseMs ?? 200, maxMs, maxRetryAfterMs: maxMs }
  }

  private queue(registry: string, PQueue: PQueueClass) {
    let queue = this.queues.get(registry)
    if (!queue) {
      queue = new PQueue({ concurrency: this.options.concurrency ?? 16 })
      this.queues.set(registry, queue)
    }
    return queue
  }

  /**
   * One registry call with auth and retries. Returns the response for statuses < 400 and those in `accept`;
   * throws RegistryError otherwise. The caller must consume or dump the body.
   */
  async send(registry: string, method: string, pathOrUrl: string, options: SendOptions): Promise<Response> {
    const { undici, dispatcher, PQueue } = await this.load()
    const queue = this.queue(registry, PQueue)
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.origin(registry)}${pathOrUrl}`
    const path = url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '')
    const retries = this.options.retries ?? 5
    const policy = this.backoffPolicy()
    let authRetries = 0
    for (let attempt = 0; ; attempt++) {
      // While the first request to a registry learns its auth scheme, others wait instead of all collecting 401s.
      // The check and the claim below must happen without an await between them.
      let state = this.auth.get(registry)
      while (state?.scheme === 'unknown' && state.discovering) {
        await state.discovering
        state = this.auth.get(registry)
      }
      const discovering = state === undefined && options.authorization === undefined
      let release: (() => void) | undefined
      if (discovering) {
        const pending = new Promise<void>((resolve) => {
          release = resolve
        })
        this.auth.set(registry, { scheme: 'unknown', discovering: pending })
      }
      try {
        const authorization =
          options.authorization !== undefined
            ? (options.authorization ?? undefined)
            : await this.authorization(registry, options.access)
        const headers: Record<string, string> = {
          'user-agent': this.options.userAgent ?? 'konflux-gitops',
          ...options.headers,
          ...(authorization ? { authorization } : {}),
        }
        const started = performance.now()
        let res: Response
        try {
          const raw = await queue.add(() =>
            undici.request(url, {
              method: method as import('undici').Dispatcher.HttpMethod,
              headers,
              dispatcher,
              // undici closes the connection after every HEAD (against servers that send a body anyway); registries
              // do not, and a no-op release is all HEADs: keep the connection, and the TLS session, alive.
              ...(method === 'HEAD' ? { reset: false } : {}),
              ...(options.body === undefined ? {} : { body: options.body }),
            }),
          )
          res = { status: raw.statusCode, headers: raw.headers, body: raw.body }
        } catch (error) {
          const code = (error as { code?: string }).code ?? ''
          this.options.onRequest?.({
            registry,
            method,
            path,
            status: 0,
            attempt,
            durationMs: performance.now() - started,
          })
          if (RETRY_ERROR_CODES.has(code) && attempt < retries && !options.once) {
            const wait = backoffMs(attempt + 1, policy)
            this.options.onWarning?.(`${method} ${registry}${path}: ${code}; retrying in ${wait} ms`)
            await sleep(wait)
            continue
          }
          throw new RegistryError(`${method} ${registry}${path}: ${(error as Error).message}`, {
            code: 'registry-unavailable',
            retryable: true,
            hint: `Check that ${registry} is reachable (and its TLS certificate trusted: NODE_EXTRA_CA_CERTS).`,
            cause: error,
          })
        }
        this.options.onRequest?.({
          registry,
          method,
          path,
          status: res.status,
          attempt,
          durationMs: performance.now() - started,
        })

        if (res.status === 401 && authRetries < 2 && options.authorization === undefined) {
          const challenge = header(res.headers, 'www-authenticate')
          await res.body.dump()
          const learned = this.learnChallenge(registry, challenge)
          // A 401 with a known scheme means the token lacked a scope or expired: drop it and ask once more.
          if (!learned) this.dropTokens(registry, options.access)
          authRetries++
          attempt--
          continue
        }
        if (discovering && !this.isKnown(registry)) this.auth.set(registry, { scheme: 'none' })
        if (options.accept?.includes(res.status)) return res
        if (res.status < 400) return res

        if (RETRY_STATUSES.has(res.status) && attempt < retries && !options.once) {
          const after = retryAfterMs(res.headers['retry-after'])
          const wait = backoffMs(attempt + 1, policy, after)
          await res.body.dump()
          this.options.onWarning?.(
            `${method} ${registry}${path}: HTTP ${res.status}; retry ${attempt + 1}/${retries} in ${wait} ms${after === undefined ? '' : ' (Retry-After)'}`,
          )
          await sleep(wait)
          continue
        }
        const text = await res.body.text().catch(() => '')
        throw this.errorFor(registry, method, path, res.status, text, retryAfterMs(res.headers['retry-after']))
      } finally {
        if (discovering) {
          if (!this.isKnown(registry)) this.auth.delete(registry)
          release?.()
        }
      }
    }
  }

  private isKnown(registry: string): boolean {
    const state = this.auth.get(registry)
    return state !== undefined && state.scheme !== 'unknown'
  }

  private learnChallenge(registry: string, challenge: string | undefined): boolean {
    const parsed = challenge ? parseChallenge(challenge) : undefined
    const before = this.auth.get(registry)
    if (parsed?.scheme === 'bearer' && parsed.params.realm) {
      const next = { scheme: 'bearer' as const, realm: parsed.params.realm, service: parsed.params.service }
      this.auth.set(registry, next)
      return before?.scheme !== 'bearer'
    }
    if (parsed?.scheme === 'basic') {
      this.auth.set(registry, { scheme: 'basic' })
      return before?.scheme !== 'basic'
    }
    return false
  }

  private errorFor(
    registry: string,
    method: string,
    path: string,
    status: number,
    body: string,
    retryAfter: number | undefined,
  ): RegistryError {
    const detail = describeRegistryBody(body)
    const what = `${method} ${registry}${path}: HTTP ${status}${detail ? ` (${detail})` : ''}`
    if (status === 401) {
      return new RegistryError(what, {
        status,
        code: 'registry-unauthorized',
        hint: `Log in to ${registry} (docker login / podman login), or point DOCKER_CONFIG or REGISTRY_AUTH_FILE at an auth file with credentials for it.`,
      })
    }
    if (status === 403) {
      return new RegistryError(what, {
        status,
        code: 'registry-denied',
        hint: `The credentials for ${registry} are valid but lack permission for this repository (push needs write access).`,
      })
    }
    if (status === 404) return new RegistryError(what, { status, code: 'registry-not-found' })
    if (RETRY_STATUSES.has(status)) {
      return new RegistryError(`${what}, still failing after retries`, {
        status,
        code: 'registry-unavailable',
        retryable: true,
        retryAfterMs: retryAfter,
        hint: 'The registry is overloaded or down; run the same command again later: finished work is skipped.',
      })
    }
    // Other 4xx answers are about the request itself; a 5xx may pass.
    return new RegistryError(what, { status, retryable: status >= 500, retryAfterMs: retryAfter })
  }

  private async authorization(registry: string, access: Access[]): Promise<string | undefined> {
    const state = this.auth.get(registry)
    if (!state || state.scheme === 'unknown' || state.scheme === 'none') return undefined
    const credentials = await this.credentials.get(registry, access[0]?.repository)
    if (state.scheme === 'basic') {
      if (!credentials) return undefined
      if (credentials.kind !== 'basic') {
        throw new RegistryError(`${registry} asks for Basic auth but only an identity token is configured for it`, {
          code: 'registry-unauthorized',
          hint: `Log in to ${registry} with a username and password.`,
        })
      }
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    }
    const token = await this.token(registry, state, access, credentials)
    return token ? `Bearer ${token}` : undefined
  }

  private findToken(registry: string, access: Access[]): CachedToken | undefined {
    const now = Date.now()
    const list = (this.tokens.get(registry) ?? []).filter((t) => t.expiresAt > now)
    this.tokens.set(registry, list)
    return list.find((t) => access.every((a) => a.actions.every((action) => t.grants.get(a.repository)?.has(action))))
  }

  private dropTokens(registry: string, access: Access[]): void {
    const token = this.findToken(registry, access)
    if (token)
      this.tokens.set(
        registry,
        (this.tokens.get(registry) ?? []).filter((t) => t !== token),
      )
  }

  private async token(
    registry: string,
    state: { realm: string; service: string | undefined },
    access: Access[],
    credentials: Credentials | undefined,
  ): Promise<string | undefined> {
    const cached = this.findToken(registry, access)
    if (cached) return cached.token
    const key = `${registry} ${scopeKey(access)}`
    let pending = this.tokenFetches.get(key)
    if (!pending) {
      pending = this.fetchToken(registry, state, access, credentials).finally(() => this.tokenFetches.delete(key))
      this.tokenFetches.set(key, pending)
    }
    return (await pending).token
  }

  /**
   * Credentials go to a token realm only over TLS (or a host configured for plain HTTP, loopback tests) and only on
   * the registry's own host or a configured realm host: a registry's challenge must not be able to send them
   * elsewhere.
   */
  private realmProblem(registry: string, realm: URL): string | undefined {
    const env = this.options.env ?? process.env
    const plain = this.plainHttp === true || this.plainHttp.has(realm.host)
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && plain)) {
      return `its token realm ${realm.origin} is not HTTPS`
    }
    const registryHost = new URL(this.origin(registry)).hostname
    const configured = [
      ...(this.options.tokenRealms ?? []),
      ...(env.KONFLUX_GITOPS_TOKEN_REALMS ?? '').split(',').map((s) => s.trim()),
    ].filter(Boolean)
    const builtIn = registry === 'docker.io' && realm.hostname === 'auth.docker.io'
    if (
      realm.hostname !== registryHost &&
      !builtIn &&
      !configured.includes(realm.host) &&
      !configured.includes(realm.hostname)
    ) {
      return `its token realm ${realm.origin} is on another host`
    }
    return undefined
  }

  private async fetchToken(
    registry: string,
    state: { realm: string; service: string | undefined },
    access: Access[],
    credentials: Credentials | undefined,
  ): Promise<CachedToken> {
    const { undici, dispatcher } = await this.load()
    const scopes = scopeKey(access).split(' ').filter(Boolean)
    let realm: URL
    try {
      realm = new URL(state.realm)
    } catch {
      throw new RegistryError(`${registry} names a token realm that is not a URL`, {
        code: 'registry-unauthorized',
        retryable: false,
      })
    }
    const problem = credentials ? this.realmProblem(registry, realm) : undefined
    if (problem) {
      throw new RegistryError(`refusing to send the credentials for ${registry} to its token realm: ${problem}`, {
        code: 'registry-unauthorized',
        retryable: false,
        hint: `If ${realm.host} is the registry's real auth server, allow it with KONFLUX_GITOPS_TOKEN_REALMS=${realm.host} (and use HTTPS).`,
      })
    }
    let res: import('undici').Dispatcher.ResponseData
    const retries = this.options.retries ?? 5
    for (let attempt = 0; ; attempt++) {
      try {
        if (credentials?.kind === 'identity-token') {
          const form = new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: credentials.token,
            client_id: 'konflux-gitops',
            ...(state.service ? { service: state.service } : {}),
            scope: scopes.join(' '),
          })
          res = await undici.request(realm, {
            method: 'POST',
            dispatcher,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: form.toString(),
          })
        } else {
          const url = new URL(realm)
          if (state.service) url.searchParams.set('service', state.service)
          for (const scope of scopes) url.searchParams.append('scope', scope)
          const headers: Record<string, string> = {}
          if (credentials?.kind === 'basic') {
            url.searchParams.set('account', credentials.username)
            headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
          }
          res = await undici.request(url, { method: 'GET', dispatcher, headers })
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? ''
        if (RETRY_ERROR_CODES.has(code) && attempt < retries) {
          await sleep(backoffMs(attempt + 1, this.backoffPolicy()))
          continue
        }
        throw new RegistryError(`token request to ${realm.origin}${realm.pathname} for ${registry} failed: ${code}`, {
          code: 'registry-unavailable',
          cause: error,
        })
      }
      if (RETRY_STATUSES.has(res.statusCode) && attempt < retries) {
        const wait = retryAfterMs(res.headers['retry-after'])
        await res.body.dump()
        await sleep(backoffMs(attempt + 1, this.backoffPolicy(), wait))
        continue
      }
      break
    }
    const text = await res.body.text()
    if (res.statusCode !== 200) {
      throw new RegistryError(
        `token request to ${realm.origin}${realm.pathname} for ${registry} (${scopes.join(' ')}): HTTP ${res.statusCode}`,
        {
          status: res.statusCode,
          code: 'registry-unauthorized',
          hint: credentials
            ? `The credentials configured for ${registry} were rejected; log in again (docker login ${registry}).`
            : `No credentials for ${registry}: log in (docker login ${registry}) or set DOCKER_CONFIG / REGISTRY_AUTH_FILE.`,
        },
      )
    }
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string }
    try {
      body = JSON.parse(text)
    } catch {
      throw new RegistryError(`token response from ${realm.origin}${realm.pathname} is not JSON`)
    }
    const token = body.token ?? body.access_token
    if (!token) throw new RegistryError(`token response from ${realm.origin}${realm.pathname} has no token`)
    // The spec's default lifetime is 60 s; keep a margin so a token never expires mid-request.
    const lifetime = Math.max(60, body.expires_in ?? 60)
    const cached: CachedToken = {
      token,
      expiresAt: Date.now() + (lifetime - 10) * 1000,
      grants: new Map(access.map((a) => [a.repository, new Set<string>(a.actions)])),
    }
    const list = this.tokens.get(registry) ?? []
    list.push(cached)
    this.tokens.set(registry, list)
    return cached
  }

  async close(): Promise<void> {
    if (!this.undici) return
    const { dispatcher } = await this.undici
    await dispatcher.close()
  }

  /** Drop every connection now, in-flight requests included (close() waits for them: a hung registry never ends). */
  async destroy(): Promise<void> {
    if (!this.undici) return
    const { dispatcher } = await this.undici
    await dispatcher.destroy()
  }
}
