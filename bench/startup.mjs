#!/usr/bin/env node
// Cold start of the CLI against bare Node, measured in the same run, alternating so drift hits both alike.
// Usage: npm run bench:startup [-- RUNS]   (default 15 runs of each; target: ratio <= 3)
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 15)
const node = process.execPath
const bin = join(root, 'bin/run.js')
// "unbundled" runs the same build with the installed @oclif/core package instead of dist/oclif-core.cjs (see
// bin/run.js): the peer that shows what the bundle and its code cache buy.
const unbundled = { ...process.env, KONFLUX_GITOPS_UNBUNDLED: '1' }
const cases = {
  'node -e 0': [node, ['-e', '0']],
  'konflux-gitops --version': [node, [bin, '--version']],
  'konflux-gitops --help': [node, [bin, '--help']],
  '--help (unbundled)': [node, [bin, '--help'], unbundled],
  'image parse --help': [node, [bin, 'image', 'parse', '--help']],
  'image parse nginx': [node, [bin, 'image', 'parse', 'nginx']],
  'image parse nginx (unbundled)': [node, [bin, 'image', 'parse', 'nginx'], unbundled],
}

function once([cmd, args, env = process.env]) {
  const start = process.hrtime.bigint()
  const result = spawnSync(cmd, args, { stdio: 'ignore', env })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
for (const c of Object.values(cases)) once(c) // warm the file cache
for (let i = 0; i < runs; i++) for (const [name, c] of Object.entries(cases)) times[name].push(once(c))

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const base = median(times['node -e 0'])
console.log(`startup, ${runs} runs each, Node ${process.version}`)
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs)
  console.log(`${name.padEnd(30)} median ${m.toFixed(1).padStart(7)} ms   ratio to bare node ${(m / base).toFixed(2)}x`)
}
