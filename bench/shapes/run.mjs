#!/usr/bin/env node
// `init` and its no-op re-run for each repo shape, as ratios against the kustomize + Renovate shape measured in the
// same run (the peer): the Helm and Dependabot shapes should cost about the same, not a multiple.
// Usage: node bench/shapes/run.mjs [COMPONENTS] [RUNS]   (default 50 components x 4 environments, 3 runs each)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const components = Number(process.argv[2] ?? 50)
const runs = Number(process.argv[3] ?? 3)
const cli = join(root, 'bin', 'run.js')
const args = ['--app', 'shop', '--ci', 'none']
for (let i = 0; i < components; i++) args.push('--component', `c${i}=quay.io/acme/shop/c${i}:${8000 + i}`)
for (const env of ['dev', 'stage', 'prod', 'perf']) args.push('--env', env)
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@example.com',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@example.com',
}
const SHAPES = {
  'kustomize + renovate (peer)': [],
  'kustomize + dependabot': ['--updater', 'dependabot'],
  'helm + renovate': ['--flavour', 'helm'],
  'helm + dependabot': ['--flavour', 'helm', '--updater', 'dependabot'],
}

function timed(argv, cwd) {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [cli, ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env })
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const work = mkdtempSync(join(tmpdir(), 'kg-bench-shapes-'))
const results = {}
try {
  for (let r = 0; r < runs; r++) {
    for (const [name, flags] of Object.entries(SHAPES)) {
      const dir = join(work, `${r}-${name.replace(/\W+/g, '-')}`)
      results[name] ??= { first: [], again: [] }
      results[name].first.push(timed(['init', dir, ...args, ...flags], work))
      results[name].again.push(timed(['init', dir], work))
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
const peer = results['kustomize + renovate (peer)']
console.log(`init of ${components} components x 4 environments, median of ${runs} runs`)
for (const [name, { first, again }] of Object.entries(results)) {
  console.log(
    `${name.padEnd(28)} first ${median(first).toFixed(0).padStart(6)} ms (${(median(first) / median(peer.first)).toFixed(2)}x)` +
      `   re-run ${median(again).toFixed(0).padStart(6)} ms (${(median(again) / median(peer.again)).toFixed(2)}x)`,
  )
}
