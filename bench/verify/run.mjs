#!/usr/bin/env node
/**
 * What signature verification costs a release, against Debian's docker-registry on 127.0.0.1 (plain HTTP, no
 * auth, one run, ratios against peers measured in the same run):
 *   (a) the release engine (executeRetags) over N signed images in 32 repositories, no verification
 *   (b) the same with the signature gate (src/verify: .sig tag + referrers lookup, payload blob, ECDSA P-256)
 *   (c) checkSignature alone per image, against one HEAD per image (the cheapest registry question)
 * Usage: npm run build && node bench/verify/run.mjs   (BENCH_N=300)
 * Needs: apt-get install docker-registry
 */
import { spawn } from 'node:child_process'
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
if (!existsSync(join(root, 'dist/src/verify/index.js'))) {
  console.error('bench/verify needs the built CLI: run npm run build first')
  process.exit(2)
}
const { RegistryClient } = await import(join(root, 'dist/src/registry/client.js'))
const { executeRetags } = await import(join(root, 'dist/src/release/engine.js'))
const { checkSignature, createSignatureGate, parseVerificationKeys } = await import(
  join(root, 'dist/src/verify/index.js')
)

const N = Number(process.env.BENCH_N ?? 300)
const REPOS = 32
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`

const port = await new Promise((resolve) => {
  const s = createServer()
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address()
    s.close(() => resolve(port))
  })
})
const dir = await mkdtemp(join(tmpdir(), 'kg-bench-verify-'))
const host = `127.0.0.1:${port}`
const base = `http://${host}`
await writeFile(
  join(dir, 'config.yml'),
  `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: ${host}\n`,
)
const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
const agent = new Agent({ keepAliveTimeout: 30_000 })

async function call(method, path, headers = {}, body) {
  const res = await request(`${base}${path}`, { method, headers, dispatcher: agent, ...(body ? { body } : {}) })
  if (method === 'HEAD') await res.body.dump()
  else await res.body.arrayBuffer()
  return { status: res.statusCode, headers: res.headers }
}

async function pushBlob(repo, data) {
  const digest = sha256(data)
  const start = await call('POST', `/v2/${repo}/blobs/uploads/`)
  const url = new URL(start.headers.location, base)
  url.searchParams.set('digest', digest)
  const put = await call('PUT', url.pathname + url.search, { 'content-type': 'application/octet-stream' }, data)
  if (put.status !== 201) throw new Error(`blob ${put.status}`)
  return { digest, size: data.length }
}

async function pushManifest(repo, reference, manifest) {
  const bytes = Buffer.from(JSON.stringify(manifest))
  const res = await call('PUT', `/v2/${repo}/manifests/${reference}`, { 'content-type': OCI_MANIFEST }, bytes)
  if (res.status !== 201) throw new Error(`manifest ${res.status}`)
  return sha256(bytes)
}

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const keys = parseVerificationKeys(publicKey.export({ type: 'spki', format: 'pem' }), 'cosign.pub')

try {
  for (let i = 0; ; i++) {
    try {
      if ((await call('GET', '/v2/')).status === 200) break
    } catch {}
    if (i > 200) throw new Error('registry did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  // N images, each signed as cosign signs it: tag sha256-<hex>.sig, one simple-signing layer.
  const images = []
  const salt = randomBytes(4).toString('hex')
  for (let i = 0; i < N; i++) {
    const repo = `bench/r${i % REPOS}`
    const layer = await pushBlob(repo, Buffer.from(`layer ${repo}`))
    const config = await pushBlob(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', i })))
    const digest = await pushManifest(repo, sha256(`${salt}${i}`).replace(':', '-'), {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      annotations: { 'bench.index': `${salt}-${i}` },
    })
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': `${host}/${repo}` },
          image: { 'docker-manifest-digest': digest },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    )
    const blob = await pushBlob(repo, payload)
    const sigConfig = await pushBlob(
      repo,
      Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [blob.digest] } })),
    )
    await pushManifest(repo, `${digest.replace(':', '-')}.sig`, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...sigConfig },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          ...blob,
          annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, privateKey).toString('base64') },
        },
      ],
    })
    images.push({ repo, digest })
  }
  const retags = (tag) =>
    images.map((img, i) => ({
      component: `c${i}`,
      source: { registry: host, path: img.repo, digest: img.digest },
      target: { registry: host, path: img.repo },
      tag: `${tag}-${i}`,
    }))
  const time = async (fn) => {
    const t0 = performance.now()
    const out = await fn()
    return { seconds: (performance.now() - t0) / 1000, out }
  }
  const release = async (tag, verify) => {
    const client = new RegistryClient({ plainHttp: [host], concurrency: 64 })
    const gate = verify ? createSignatureGate(client, keys) : undefined
    const { seconds, out } = await time(() =>
      executeRetags(retags(tag), client, {
        concurrency: 16,
        followArtifacts: false,
        ...(gate ? { verify: (r) => gate(r.source) } : {}),
      }),
    )
    await client.close()
    const bad = out.filter((o) => o.status !== 'moved')
    if (bad.length) throw new Error(`${bad.length} not moved: ${bad[0].error?.message}`)
    return seconds
  }
  const plain = await release('plain', false)
  const verified = await release('verified', true)

  const client = new RegistryClient({ plainHttp: [host], concurrency: 64 })
  const heads = await time(() =>
    Promise.all(images.map((img) => client.headManifest({ registry: host, path: img.repo }, img.digest))),
  )
  const checks = await time(() =>
    Promise.all(
      images.map((img) => checkSignature(client, { registry: host, path: img.repo, digest: img.digest }, keys)),
    ),
  )
  await client.close()
  if (checks.out.some((c) => !c.signed)) throw new Error('an image did not verify')

  const perImage = (s) => `${((s * 1000) / N).toFixed(2)} ms/image`
  console.log(`bench/verify: ${N} signed images in ${REPOS} repositories`)
  console.log(`(a) release, no verification      ${plain.toFixed(2)} s  ${perImage(plain)}`)
  console.log(
    `(b) release, --verify-key          ${verified.toFixed(2)} s  ${perImage(verified)}  ratio b/a ${(verified / plain).toFixed(2)}`,
  )
  console.log(`(c) checkSignature per image       ${checks.seconds.toFixed(2)} s  ${perImage(checks.seconds)}`)
  console.log(
    `    one HEAD per image (peer)      ${heads.seconds.toFixed(2)} s  ${perImage(heads.seconds)}  ratio ${(checks.seconds / heads.seconds).toFixed(1)}x`,
  )
} finally {
  registry.kill('SIGTERM')
  await agent.close()
  await rm(dir, { recursive: true, force: true })
}
