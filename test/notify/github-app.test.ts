/**
 * Notify as a GitHub App: @octokit/auth-app signs the App JWT, finds the installation on the repository and
 * exchanges it for an installation token, which then drives the notification on the GitHub fake. The two App
 * endpoints are served by a thin front here (the fake has no Apps); it checks the JWT's RS256 signature with the
 * App's public key, and passes every other request to the fake.
 */
import { createVerify, generateKeyPairSync } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { prepareReleaseNotifier } from '../../src/notify/index.js'
import type { ReleaseReport } from '../../src/release/index.js'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'
import { withTempDir } from '../helpers/cli.js'

const APP_ID = '424242'
const INSTALLATION_ID = 77
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
let fake: GitHubFake
let front: Server
let frontUrl: string
const verifiedJwts: string[] = []
let botToken: string

function appJwtValid(header: string | undefined): boolean {
  const jwt = /^bearer (.+)$/i.exec(header ?? '')?.[1]
  if (!jwt) return false
  const [head, body, signature] = jwt.split('.')
  const ok = createVerify('RSA-SHA256')
    .update(`${head}.${body}`)
    .verify(publicKey, Buffer.from(signature ?? '', 'base64url'))
  const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as { iss: unknown; exp: number }
  const valid = ok && String(claims.iss) === APP_ID && claims.exp * 1000 > Date.now()
  if (valid) verifiedJwts.push(jwt)
  return valid
}

beforeAll(async () => {
  fake = await startGitHubFake()
  botToken = fake.addUser('konflux-notify', { orgs: ['acme'] }).token
  front = createServer(async (req, res) => {
    const url = req.url ?? '/'
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const installation = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url)
    if (installation || url.startsWith('/app/')) {
      if (!appJwtValid(req.headers.authorization))
        return json(401, { message: 'A JSON web token could not be decoded' })
      if (installation) {
        const known = fake.state.repos.has(`${installation[1]}/${installation[2]}`.toLowerCase())
        if (!known || installation[2] === 'not-installed') return json(404, { message: 'Not Found' })
        return json(200, { id: INSTALLATION_ID, app_id: Number(APP_ID), account: { login: installation[1] } })
      }
      if (req.method === 'POST' && url === `/app/installations/${INSTALLATION_ID}/access_tokens`) {
        return json(201, { token: botToken, expires_at: new Date(Date.now() + 3600_000).toISOString() })
      }
      return json(404, { message: 'Not Found' })
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const upstream = await fetch(`${fake.url}${url}`, {
      method: req.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection'].includes(k)),
      ) as Record<string, string>,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    })
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
    res.end(Buffer.from(await upstream.arrayBuffer()))
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => front?.close(resolve))
  await fake?.stop()
})

const report = (snapshot: string): ReleaseReport => ({
  snapshot,
  application: 'shop',
  dryRun: false,
  forced: [],
  summary: { moved: 1, unchanged: 1, wouldMove: 0, failed: 0, refused: 0, skipped: 0 },
  results: ['moved', 'unchanged'].map((status, i) => ({
    component: i ? 'web' : 'api',
    source: `quay.io/acme/shop/${i ? 'web' : 'api'}@sha256:${String(i).repeat(64)}`,
    target: `quay.io/acme/shop/${i ? 'web' : 'api'}:released`,
    tag: 'released',
    digest: `sha256:${String(i).repeat(64)}`,
    status: status as 'moved' | 'unchanged',
    mediaType: null,
    previousDigest: null,
    followed: [],
    warnings: [],
    error: null,
  })),
  skipped: [],
})

test('a GitHub App installation token sends the notification; only moved tags are named', async () => {
  await withTempDir(async (dir) => {
    const keyFile = join(dir, 'app.pem')
    await writeFile(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }))
    fake.addRepo('acme/app-gitops', { private: true })
    fake.addRepo('other/not-installed')
    const notify = await prepareReleaseNotifier({
      targets: ['github:acme/app-gitops', 'github:other/not-installed'],
      via: 'dispatch',
      apiUrl: frontUrl,
      env: {},
      githubApp: { appId: APP_ID, privateKeyFile: keyFile },
    })
    const outcomes = await notify(report('shop-app-1'))
    expect(outcomes.map((o) => [o.repository, o.status])).toEqual([
      ['acme/app-gitops', 'dispatched'],
      ['other/not-installed', 'failed'],
    ])
    expect(outcomes[1]?.message).toContain('the App is not installed there')
    expect(verifiedJwts.length).toBeGreaterThan(0)
    expect(fake.state.dispatches).toEqual([
      {
        repo: 'acme/app-gitops',
        eventType: 'konflux-gitops-released',
        payload: {
          snapshot: 'shop-app-1',
          images: [
            {
              repository: 'quay.io/acme/shop/api',
              tag: 'released',
              digest: `sha256:${'0'.repeat(64)}`,
              component: 'api',
            },
          ],
        },
      },
    ])
    expect(outcomes.map((o) => o.message).join('\n')).not.toContain(botToken)
  })
})

test('a key file that is missing or not a PEM key is a usage error before anything is sent', async () => {
  await withTempDir(async (dir) => {
    const options = { targets: ['github:acme/app-gitops'], via: 'dispatch' as const, apiUrl: frontUrl, env: {} }
    await expect(
      prepareReleaseNotifier({ ...options, githubApp: { appId: APP_ID, privateKeyFile: join(dir, 'absent.pem') } }),
    ).rejects.toThrow(/absent\.pem: no such file/)
    await writeFile(join(dir, 'bad.pem'), 'not a key')
    await expect(
      prepareReleaseNotifier({ ...options, githubApp: { appId: APP_ID, privateKeyFile: join(dir, 'bad.pem') } }),
    ).rejects.toThrow(/not a PEM private key/)
  })
})
