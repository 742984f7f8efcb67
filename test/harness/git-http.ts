/**
 * A git server over HTTPS for tests: a Node HTTP(S) server on 127.0.0.1 that runs `git http-backend` (CGI) for
 * every request, so pushes go through git's real smart-HTTP protocol the way they do to GitHub.
 *
 *   const server = await startGitHttp({ token: 'ghs_secret' })     // tls: true by default; token: require Basic auth
 *   const bare = await server.createRepo('acme/shop-gitops')        // bare repo served at `${server.url}/acme/shop-gitops.git`
 *   runCli([...], { env: server.env })                              // GIT_SSL_CAINFO trusting the test CA
 *   server.requests                                                 // [{ method, path, authorization }] as received
 *   await server.stop()
 *
 * Requires git (with /usr/lib/git-core/git-http-backend) and openssl.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { makeServerPki } from './pki.js'

const run = promisify(execFile)

export interface GitHttpOptions {
  tls?: boolean
  /** When set, every request needs HTTP Basic auth whose password is this token (any user name); a function is
   * asked on each request, so the token can come from a server started later (the GitHub fake). */
  token?: string | (() => string)
}

export interface GitHttpRequest {
  method: string
  path: string
  authorization: string | undefined
}

export interface GitHttpServer {
  url: string
  root: string
  caFile: string | undefined
  env: Record<string, string>
  requests: GitHttpRequest[]
  createRepo(path: string): Promise<string>
  stop(): Promise<void>
}

export async function startGitHttp(options: GitHttpOptions = {}): Promise<GitHttpServer> {
  const tls = options.tls ?? true
  const dir = await mkdtemp(join(tmpdir(), 'kg-git-http-'))
  const root = join(dir, 'repos')
  await mkdir(root)
  const pki = tls ? await makeServerPki(dir) : undefined
  const requests: GitHttpRequest[] = []

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    requests.push({ method: req.method ?? 'GET', path: url.pathname, authorization: req.headers.authorization })
    let remoteUser = 'anonymous'
    const token = typeof options.token === 'function' ? options.token() : options.token
    if (token !== undefined) {
      const [scheme, encoded] = (req.headers.authorization ?? '').split(' ')
      const [user, password] = Buffer.from(encoded ?? '', 'base64')
        .toString('utf8')
        .split(/:(.*)/s)
      if (scheme !== 'Basic' || password !== token) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test git"', 'Content-Type': 'text/plain' })
        res.end('authentication required\n')
        req.resume()
        return
      }
      remoteUser = user || 'token'
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: remoteUser,
        REMOTE_ADDR: '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    req.pipe(cgi.stdin)
    // CGI output: header lines, a blank line, then the body, which is streamed through as it comes.
    let head = Buffer.alloc(0)
    let headersSent = false
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      let status = 200
      const headers: Record<string, string> = {}
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
        else headers[name] = value
      }
      res.writeHead(status, headers)
      headersSent = true
      res.write(head.subarray(end + 4))
    })
    cgi.on('close', () => {
      if (!headersSent) res.writeHead(502).end('git http-backend failed\n')
      else res.end()
    })
  }

  const server: Server = pki
    ? createHttpsServer({ cert: await readFile(pki.certFile), key: await readFile(pki.keyFile) }, handler)
    : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `${pki ? 'https' : 'http'}://127.0.0.1:${port}`

  return {
    url,
    root,
    caFile: pki?.caFile,
    env: pki ? { GIT_SSL_CAINFO: pki.caFile } : {},
    requests,
    async createRepo(path) {
      const bare = join(root, `${path}.git`)
      await run('git', ['init', '-q', '--bare', '--initial-branch=main', bare])
      await run('git', ['-C', bare, 'config', 'http.receivepack', 'true'])
      return bare
    },
    async stop() {
      server.closeAllConnections?.()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
