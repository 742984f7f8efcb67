/**
 * A Docker token server (the "realm" of a Bearer challenge) for tests: checks Basic credentials, grants the
 * requested scopes and returns RS256 JWTs with an `x5c` header that `docker-registry` trusts through
 * `auth.token.rootcertbundle`. Hand-written because it is ~60 lines of Node and no Debian package ships one.
 */
import { createSign, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TokenSigner } from './pki.js'

export const TOKEN_ISSUER = 'konflux-gitops-test-issuer'
export const TOKEN_SERVICE = 'konflux-gitops-test-registry'

export interface AccessEntry {
  type: string
  name: string
  actions: string[]
}

export interface TokenRequestRecord {
  account: string | undefined
  scopes: string[]
  granted: boolean
}

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url')
}

/** A signed registry JWT granting `access`; tests and the harness mint their own admin tokens with it. */
export function mintToken(signer: TokenSigner, subject: string, access: AccessEntry[], ttlSeconds = 300): string {
  const now = Math.floor(Date.now() / 1000)
  const header = { typ: 'JWT', alg: 'RS256', x5c: [signer.certDerBase64] }
  const claims = {
    iss: TOKEN_ISSUER,
    sub: subject,
    aud: TOKEN_SERVICE,
    exp: now + ttlSeconds,
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access,
  }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = createSign('RSA-SHA256').update(signingInput).sign(signer.keyPem)
  return `${signingInput}.${base64url(signature)}`
}

/** `repository:acme/api:pull,push` → access entry. Names may contain ':' only in the registry's own grammar (not). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first < 0 || last <= first) return undefined
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  }
}

export interface TokenServer {
  realm: string
  /** Every token request, in order: tests assert that clients reuse tokens. */
  requests: TokenRequestRecord[]
  stop(): Promise<void>
}

export async function startTokenServer(
  signer: TokenSigner,
  users: ReadonlyMap<string, string>,
  options: {
    ttlSeconds?: number
    refreshTokens?: ReadonlyMap<string, string>
    /** Serve HTTPS with this identity (the registry's): clients send credentials to a realm only over TLS. */
    tls?: { certPem: string; keyPem: string }
  } = {},
): Promise<TokenServer> {
  const requests: TokenRequestRecord[] = []
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://token')
    let scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean))
    let account: string | undefined
    let authenticated = false
    const header = req.headers.authorization
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant: how docker clients use an `identitytoken` from config.json.
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean)
      account = options.refreshTokens?.get(form.get('refresh_token') ?? '')
      authenticated = form.get('grant_type') === 'refresh_token' && account !== undefined
    } else if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      account = decoded.slice(0, colon)
      authenticated = users.get(account) === decoded.slice(colon + 1)
    }
    requests.push({ account, scopes, granted: authenticated })
    if (!authenticated) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }))
      return
    }
    const access = scopes.map(parseScope).filter((entry): entry is AccessEntry => entry !== undefined)
    const ttl = options.ttlSeconds ?? 300
    const token = mintToken(signer, account ?? 'anonymous', access, ttl)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() }))
  }
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler)
    : createServer(handler)
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    realm: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/token`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
