/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, started per call.
 *
 *   const reg = await startRegistry({ auth: 'token' })      // tls: true by default; auth: 'none' | 'htpasswd' | 'token'
 *   const digest = await reg.pushImage('acme/api', 'build-1')                        // small OCI image, returns its digest
 *   const index = await reg.pushImage('acme/web', 'b1', { platforms: ['linux/amd64', 'linux/arm64'] })  // 2-platform index
 *   await reg.pushImage('acme/old', 'v1', { format: 'docker' })                     // Docker v2 media types
 *   await reg.moveTag('acme/api', 'released', digest)                               // point a tag at a digest
 *   await reg.resolveTag('acme/api', 'released')                                    // digest or undefined
 *   runCli([...], { env: reg.env })          // NODE_EXTRA_CA_CERTS + DOCKER_CONFIG with the test credentials
 *   await reg.stop()
 *
 * Fields: `host` ('127.0.0.1:PORT'), `url`, `caFile`/`caPem` (undefined when tls: false), `username`/`password`
 * (htpasswd/token), `dockerConfigDir`/`dockerConfigPath` (a config.json with those credentials), `env`,
 * `tokenServer` (token auth: its `realm` and `requests`), `signer` (mint tokens yourself with token-server's mintToken),
 * `addAuthHost(host)` (same credentials for a proxy in front: see fault-proxy.ts).
 * Also `pushSignature` (cosign-style `sha256-<hex>.sig` tag), `pushReferrer` (manifest with `subject` plus the OCI
 * referrers fallback tag `sha256-<hex>`, since distribution 2.8 has no referrers API), `getManifest`, `pushManifest`.
 *
 * The harness talks to the registry with its own minimal code (not src/registry) so the client under test is
 * never used to set up its own test. Requires: apt-get install docker-registry apache2-utils openssl.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { makeServerPki, makeTokenSigner, type TokenSigner } from './pki.js'
import { mintToken, startTokenServer, TOKEN_ISSUER, TOKEN_SERVICE, type TokenServer } from './token-server.js'

const run = promisify(execFile)

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  emptyJson: 'application/vnd.oci.empty.v1+json',
} as const

const ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ')

export interface RegistryOptions {
  /** Serve HTTPS with a CA generated for this registry (default true). */
  tls?: boolean
  auth?: 'none' | 'htpasswd' | 'token'
  username?: string
  password?: string
  /** Token lifetime for token auth (seconds). */
  tokenTtlSeconds?: number
  /** Token auth: refresh tokens the token server accepts (as docker's `identitytoken`), mapped to account names. */
  refreshTokens?: Record<string, string>
}

export interface PushImageOptions {
  /** Media types: OCI (default) or Docker v2 schema 2. */
  format?: 'oci' | 'docker'
  /** Several platforms make an index (manifest list) over one image per platform; the index digest is returned. */
  platforms?: string[]
  /** Same seed, same bytes, same digest. Default: random, so every push is a new image. */
  seed?: string
  /** Labels in the image config (e.g. quay.expires-after). */
  labels?: Record<string, string>
  /**
   * The config's build time (`created`). Default: the push time, so a later push is a newer build; with a seed a
   * fixed time, so the same seed still gives the same bytes. `null`: no build time at all.
   */
  created?: string | null
}

export interface ManifestBytes {
  bytes: Buffer
  mediaType: string
  digest: string
}

export interface TestRegistry {
  host: string
  url: string
  caFile: string | undefined
  caPem: string | undefined
  username: string | undefined
  password: string | undefined
  dockerConfigDir: string
  dockerConfigPath: string
  env: Record<string, string>
  tokenServer: TokenServer | undefined
  signer: TokenSigner | undefined
  /** Server certificate and key (TLS only): a proxy in front of the registry can serve the same identity. */
  tls: { certPem: string; keyPem: string } | undefined
  pushImage(repoPath: string, tag: string | undefined, options?: PushImageOptions): Promise<string>
  pushManifest(repoPath: string, reference: string, bytes: Buffer | string, mediaType: string): Promise<string>
  getManifest(repoPath: string, reference: string): Promise<ManifestBytes | undefined>
  moveTag(repoPath: string, tag: string, digest: string, fromRepoPath?: string): Promise<void>
  resolveTag(repoPath: string, tag: string): Promise<string | undefined>
  blobExists(repoPath: string, digest: string): Promise<boolean>
  /** Upload a blob (e.g. a signature payload; see cosign.ts); returns its descriptor fields. */
  pushBlob(repoPath: string, bytes: Buffer | string): Promise<{ digest: string; size: number }>
  pushSignature(repoPath: string, digest: string): Promise<string>
  pushReferrer(repoPath: string, subjectDigest: string, artifactType?: string): Promise<string>
  /** Also write the test credentials for another host (a proxy in front) into dockerConfigPath. */
  addAuthHost(host: string): Promise<void>
  stop(): Promise<void>
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const tls = options.tls ?? true
  const auth = options.auth ?? 'none'
  const username = auth === 'none' ? undefined : (options.username ?? 'kg-robot')
  const password = auth === 'none' ? undefined : (options.password ?? `pw-${randomBytes(6).toString('hex')}`)
  const dir = await mkdtemp(join(tmpdir(), 'kg-registry-'))
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const url = `${tls ? 'https' : 'http'}://${host}`

  const pki = tls ? await makeServerPki(dir) : undefined
  let signer: TokenSigner | undefined
  let tokenServer: TokenServer | undefined
  const authLines: string[] = []
  if (auth === 'htpasswd') {
    const { stdout } = await run('htpasswd', ['-Bbn', username!, password!])
    await writeFile(join(dir, 'htpasswd'), stdout)
    authLines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${join(dir, 'htpasswd')}`)
  } else if (auth === 'token') {
    signer = await makeTokenSigner(dir)
    tokenServer = await startTokenServer(signer, new Map([[username!, password!]]), {
      ...(options.tokenTtlSeconds === undefined ? {} : { ttlSeconds: options.tokenTtlSeconds }),
      refreshTokens: new Map(Object.entries(options.refreshTokens ?? {})),
      ...(pki ? { tls: { certPem: pki.certPem, keyPem: pki.keyPem } } : {}),
    })
    authLines.push(
      'auth:',
      '  token:',
      `    realm: ${tokenServer.realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${signer.certFile}`,
    )
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...(pki ? ['  tls:', `    certificate: ${pki.certFile}`, `    key: ${pki.keyFile}`] : []),
    ...authLines,
    '',
  ].join('\n')
  await writeFile(join(dir, 'config.yml'), config)

  const dockerConfigDir = join(dir, 'docker')
  await mkdir(dockerConfigDir)
  const dockerConfigPath = join(dockerConfigDir, 'config.json')
  const authHosts = [host]
  const writeAuths = async () => {
    const entry = { auth: Buffer.from(`${username}:${password}`).toString('base64') }
    const auths = username === undefined ? {} : Object.fromEntries(authHosts.map((h) => [h, entry]))
    await writeFile(dockerConfigPath, JSON.stringify({ auths }, null, 2))
  }
  await writeAuths()

  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const dispatcher = new Agent({ connect: pki ? { ca: pki.caPem } : {}, keepAliveTimeout: 2000 })

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    await dispatcher.close().catch(() => {})
    await tokenServer?.stop()
    await rm(dir, { recursive: true, force: true })
  }

  // Wait until the registry answers /v2/ (200, or 401 when auth is on).
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`docker-registry exited (${child.exitCode}): ${stderr}`)
    }
    try {
      const res = await request(`${url}/v2/`, { dispatcher })
      await res.body.dump()
      if (res.statusCode === 200 || res.statusCode === 401) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const tokens = new Map<string, string>()
  function authHeader(repoPath: string): Record<string, string> {
    if (auth === 'htpasswd') {
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` }
    }
    if (auth === 'token') {
      let token = tokens.get(repoPath)
      if (!token) {
        token = mintToken(signer!, 'harness', [
          { type: 'repository', name: repoPath, actions: ['pull', 'push', 'delete'] },
        ])
        tokens.set(repoPath, token)
      }
      return { authorization: `Bearer ${token}` }
    }
    return {}
  }

  async function call(
    method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
    repoPath: string,
    pathOrUrl: string,
    init: { headers?: Record<string, string>; body?: Buffer | string } = {},
  ) {
    const target = pathOrUrl.startsWith('http') ? pathOrUrl : `${url}${pathOrUrl}`
    const res = await request(target, {
      method,
      dispatcher,
      headers: { ...authHeader(repoPath), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    })
    const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.body.arrayBuffer())
    if (method === 'HEAD') await res.body.dump()
    return { status: res.statusCode, headers: res.headers, body }
  }

  async function pushBlob(repoPath: string, bytes: Buffer | string): Promise<{ digest: string; size: number }> {
    const data = Buffer.from(bytes)
    const digest = sha256(data)
    const head = await call('HEAD', repoPath, `/v2/${repoPath}/blobs/${digest}`)
    if (head.status === 200) return { digest, size: data.length }
    const start = await call('POST', repoPath, `/v2/${repoPath}/blobs/uploads/`)
    if (start.status !== 202) throw new Error(`blob upload start ${repoPath}: ${start.status} ${start.body}`)
    const location = new URL(String(start.headers.location), url)
    location.searchParams.set('digest', digest)
    const put = await call('PUT', repoPath, location.toString(), {
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    })
    if (put.status !== 201) throw new Error(`blob upload ${repoPath}: ${put.status} ${put.body}`)
    return { digest, size: data.length }
  }

  async function pushManifest(
    repoPath: string,
    reference: string,
    bytes: Buffer | string,
    mediaType: string,
  ): Promise<string> {
    const data = Buffer.from(bytes)
    const res = await call('PUT', repoPath, `/v2/${repoPath}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: data,
    })
    if (res.status !== 201) throw new Error(`manifest PUT ${repoPath}:${reference}: ${res.status} ${res.body}`)
    return sha256(data)
  }

  async function getManifest(repoPath: string, reference: string): Promise<ManifestBytes | undefined> {
    const res = await call('GET', repoPath, `/v2/${repoPath}/manifests/${reference}`, { headers: { accept: ACCEPT } })
    if (res.status === 404) return undefined
    if (res.status !== 200) throw new Error(`manifest GET ${repoPath}:${reference}: ${res.status} ${res.body}`)
    return { bytes: res.body, mediaType: String(res.headers['content-type']), digest: sha256(res.body) }
  }

  async function pushSingle(
    repoPath: string,
    reference: string | undefined,
    format: 'oci' | 'docker',
    seed: string,
    platform: string,
    labels: Record<string, string> | undefined,
    created: string | undefined,
  ): Promise<{ digest: string; size: number; mediaType: string }> {
    const [os = 'linux', architecture = 'amd64'] = platform.split('/')
    const layer = await pushBlob(repoPath, `layer ${seed} ${platform}\n${'x'.repeat(64)}`)
    const config = await pushBlob(
      repoPath,
      JSON.stringify({
        ...(created === undefined ? {} : { created }),
        architecture,
        os,
        config: { Labels: { 'konflux-gitops.test/seed': seed, ...labels } },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    )
    const mediaType = format === 'oci' ? MEDIA.ociManifest : MEDIA.dockerManifest
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: format === 'oci' ? MEDIA.ociConfig : MEDIA.dockerConfig, ...config },
      layers: [{ mediaType: format === 'oci' ? MEDIA.ociLayer : MEDIA.dockerLayer, ...layer }],
      ...(labels ? { annotations: labels } : {}),
    })
    const digest = await pushManifest(repoPath, reference ?? sha256(manifest), manifest, mediaType)
    return { digest, size: Buffer.byteLength(manifest), mediaType }
  }

  async function pushImage(repoPath: string, tag: string | undefined, opts: PushImageOptions = {}): Promise<string> {
    const format = opts.format ?? 'oci'
    const seed = opts.seed ?? randomBytes(8).toString('hex')
    const platforms = opts.platforms ?? []
    const created =
      opts.created === null
        ? undefined
        : (opts.created ?? (opts.seed === undefined ? new Date().toISOString() : '2026-01-01T00:00:00.000Z'))
    if (platforms.length === 0) {
      return (await pushSingle(repoPath, tag, format, seed, 'linux/amd64', opts.labels, created)).digest
    }
    const children = []
    for (const platform of platforms) {
      const child = await pushSingle(repoPath, undefined, format, seed, platform, opts.labels, created)
      const [os = 'linux', architecture = 'amd64', variant] = platform.split('/')
      children.push({
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.size,
        platform: { architecture, os, ...(variant ? { variant } : {}) },
      })
    }
    const mediaType = format === 'oci' ? MEDIA.ociIndex : MEDIA.dockerList
    const index = JSON.stringify({ schemaVersion: 2, mediaType, manifests: children })
    return pushManifest(repoPath, tag ?? sha256(index), index, mediaType)
  }

  async function moveTag(repoPath: string, tag: string, digest: string, fromRepoPath = repoPath): Promise<void> {
    const manifest = await getManifest(fromRepoPath, digest)
    if (!manifest) throw new Error(`moveTag: ${fromRepoPath}@${digest} not found`)
    await pushManifest(repoPath, tag, manifest.bytes, manifest.mediaType)
  }

  async function resolveTag(repoPath: string, tag: string): Promise<string | undefined> {
    const res = await call('HEAD', repoPath, `/v2/${repoPath}/manifests/${tag}`, { headers: { accept: ACCEPT } })
    if (res.status === 404) return undefined
    if (res.status !== 200) throw new Error(`manifest HEAD ${repoPath}:${tag}: ${res.status}`)
    return String(res.headers['docker-content-digest'])
  }

  async function blobExists(repoPath: string, digest: string): Promise<boolean> {
    const res = await call('HEAD', repoPath, `/v2/${repoPath}/blobs/${digest}`)
    return res.status === 200
  }

  async function pushSignature(repoPath: string, digest: string): Promise<string> {
    const payload = await pushBlob(
      repoPath,
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': `${host}/${repoPath}` },
          image: { 'docker-manifest-digest': digest },
        },
      }),
    )
    const config = await pushBlob(repoPath, '{}')
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, ...config },
      layers: [
        {
          mediaType: MEDIA.cosignSimpleSigning,
          ...payload,
          annotations: { 'dev.cosignproject.cosign/signature': randomBytes(32).toString('base64') },
        },
      ],
    })
    return pushManifest(repoPath, `${digest.replace(':', '-')}.sig`, manifest, MEDIA.ociManifest)
  }

  async function pushReferrer(
    repoPath: string,
    subjectDigest: string,
    artifactType = 'application/vnd.example.sbom.v1+json',
  ): Promise<string> {
    const subject = await getManifest(repoPath, subjectDigest)
    if (!subject) throw new Error(`pushReferrer: ${repoPath}@${subjectDigest} not found`)
    const empty = await pushBlob(repoPath, '{}')
    const layer = await pushBlob(repoPath, JSON.stringify({ sbom: randomBytes(8).toString('hex') }))
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      artifactType,
      config: { mediaType: MEDIA.emptyJson, ...empty },
      layers: [{ mediaType: artifactType, ...layer }],
      subject: { mediaType: subject.mediaType, digest: subjectDigest, size: subject.bytes.length },
    })
    const digest = await pushManifest(repoPath, sha256(manifest), manifest, MEDIA.ociManifest)
    // distribution 2.8 has no referrers API: maintain the OCI fallback tag (an index of referrers) as clients must.
    const fallbackTag = subjectDigest.replace(':', '-')
    const existing = await getManifest(repoPath, fallbackTag)
    const manifests = existing ? (JSON.parse(existing.bytes.toString('utf8')).manifests ?? []) : []
    manifests.push({ mediaType: MEDIA.ociManifest, digest, size: Buffer.byteLength(manifest), artifactType })
    await pushManifest(
      repoPath,
      fallbackTag,
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }),
      MEDIA.ociIndex,
    )
    return digest
  }

  return {
    host,
    url,
    caFile: pki?.caFile,
    caPem: pki?.caPem,
    username,
    password,
    dockerConfigDir,
    dockerConfigPath,
    env: { ...(pki ? { NODE_EXTRA_CA_CERTS: pki.caFile } : {}), DOCKER_CONFIG: dockerConfigDir },
    tokenServer,
    signer,
    tls: pki ? { certPem: pki.certPem, keyPem: pki.keyPem } : undefined,
    pushImage,
    pushManifest,
    getManifest,
    moveTag,
    resolveTag,
    blobExists,
    pushBlob,
    pushSignature,
    pushReferrer,
    addAuthHost: async (other: string) => {
      authHosts.push(other)
      await writeAuths()
    },
    stop,
  }
}
