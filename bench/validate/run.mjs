#!/usr/bin/env node
// validate's wall time against the floor of reading and parsing every YAML file once with `yaml`, in the same run,
// on generated repos of 250/500/1,000 components x 4 environments. Renovate validation is measured separately
// (it is per config file, not per component). Needs a build: npm run build.
// Usage: npm run bench:validate [-- RUNS]   (default 5 runs per size, alternating; target ratio <= 2, linear growth)
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { validateRepository } = await import(join(root, 'dist/src/validate/index.js'))
const runs = Number(process.argv[2] ?? 5)
const sizes = [250, 500, 1000]
const envs = ['dev', 'stage', 'prod', 'perf']
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`

async function generate(dir, count) {
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(4, '0')}`)
  const image = (n) => `quay.io/acme/big/${n}`
  const files = {
    'konflux-gitops.yaml': `apiVersion: konflux-gitops.dev/v1alpha1\nkind: GitOpsRepo\napp: big\ntag: released\ncomponents:\n${names.map((n) => `  - name: ${n}\n    image: ${image(n)}\n    port: 8080`).join('\n')}\nenvironments:\n${envs.map((e) => `  - name: ${e}`).join('\n')}\n`,
    'renovate.json': JSON.stringify({ extends: ['config:recommended', 'docker:pinDigests'] }),
  }
  for (const n of names) {
    files[`components/${n}/base/kustomization.yaml`] = 'resources:\n  - deployment.yaml\n  - service.yaml\n'
    files[`components/${n}/base/deployment.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${n}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${n}
    spec:
      containers:
        - name: ${n}
          image: ${image(n)}
          ports:
            - containerPort: 8080
`
    files[`components/${n}/base/service.yaml`] = `apiVersion: v1
kind: Service
metadata:
  name: ${n}
spec:
  selector:
    app.kubernetes.io/name: ${n}
  ports:
    - port: 80
      targetPort: 8080
`
  }
  for (const e of envs) {
    files[`environments/${e}/kustomization.yaml`] = `namespace: big-${e}
resources:
${names.map((n) => `  - ../../components/${n}/base`).join('\n')}
images:
${names.map((n) => `  - name: ${image(n)}\n    newTag: released@${DIGEST}`).join('\n')}
`
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  return Object.keys(files).length
}

/** The floor: find, read and parse every YAML file once, the least any validator must do. */
async function parseFloor(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const paths = entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name))
  let docs = 0
  await Promise.all(
    paths.map(async (p) => {
      for (const doc of parseAllDocuments(await readFile(p, 'utf8'))) {
        doc.toJS()
        docs++
      }
    }),
  )
  return docs
}

const time = async (fn) => {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

console.log(`validate benchmark, ${runs} runs per size (median), Node ${process.version}`)
const base = await mkdtemp(join(tmpdir(), 'kg-bench-validate-'))
try {
  const rows = []
  for (const size of sizes) {
    const dir = join(base, String(size))
    const files = await generate(dir, size)
    // Warm-up: file cache, module loading (kubernetes-models kinds) and JIT for both sides.
    await parseFloor(dir)
    const warm = await validateRepository(dir, { renovate: null, skipRules: ['renovate-config-invalid'] })
    if (warm.findings.length > 0) throw new Error(`generated repo is not clean: ${JSON.stringify(warm.findings[0])}`)
    const floor = []
    const validate = []
    for (let i = 0; i < runs; i++) {
      floor.push((await time(() => parseFloor(dir))).ms)
      validate.push((await time(() => validateRepository(dir, { renovate: null }))).ms)
    }
    rows.push({ size, files, floor: median(floor), validate: median(validate) })
  }
  console.log('components  files  yaml-parse floor  validate (no Renovate)  ratio  validate ms/component')
  for (const r of rows) {
    console.log(
      `${String(r.size).padStart(10)}  ${String(r.files).padStart(5)}  ${r.floor.toFixed(0).padStart(13)} ms  ${r.validate.toFixed(0).padStart(19)} ms  ${(r.validate / r.floor).toFixed(2).padStart(4)}x  ${(r.validate / r.size).toFixed(2).padStart(8)}`,
    )
  }
  const first = rows[0]
  const last = rows[rows.length - 1]
  console.log(
    `growth ${first.size} -> ${last.size} components: x${(last.validate / first.validate).toFixed(2)} time for x${(last.size / first.size).toFixed(0)} size (linear = x${(last.size / first.size).toFixed(0)})`,
  )

  // Renovate: once per repo, independent of the component count.
  const { validateRenovateConfig } = await import(join(root, 'dist/src/renovate/index.js'))
  const config = { extends: ['config:recommended', 'docker:pinDigests'] }
  const load = await time(() => validateRenovateConfig(config, { file: 'renovate.json' }))
  const calls = []
  for (let i = 0; i < 50; i++)
    calls.push((await time(() => validateRenovateConfig(config, { file: 'renovate.json' }))).ms)
  console.log(
    `renovate config: first call (loads Renovate + compiles its JSON schema) ${load.ms.toFixed(0)} ms, then median ${median(calls).toFixed(2)} ms per config`,
  )
} finally {
  await rm(base, { recursive: true, force: true })
}
