#!/usr/bin/env node
// `presets build` (render + validate 4 presets in-process, whole CLI start included) against Renovate's own
// `renovate-config-validator` on the same 4 files: once for all files, and once per file (what a naive
// implementation calling the validator as a child process per file would pay). Alternating runs, medians.
// Usage: node bench/presets/run.mjs [RUNS]   (default 7)
// Target: ratio <= 1.5 against one validator process, which does less (no CLI start, no check against Renovate's
// JSON schema); the per-file peer shows what loading the validator once saves.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const runs = Number(process.argv[2] ?? 7)
const node = process.execPath
const out = mkdtempSync(join(tmpdir(), 'kg-bench-presets-'))
const validator = join(root, 'node_modules', 'renovate', 'dist', 'config-validator.js')

function once(cmd, args, env = {}) {
  const start = process.hrtime.bigint()
  const result = spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

try {
  const build = () =>
    once(node, [join(root, 'bin/run.js'), 'presets', 'build', '--out', out, '--registry-prefix', 'quay.io/acme'])
  build()
  const files = readdirSync(out).map((f) => join(out, f))
  const validatorEnv = { RENOVATE_CONFIG_FILE: '', LOG_LEVEL: 'error' }
  const cases = {
    'presets build (4 files, in-process)': build,
    'renovate-config-validator, 1 process for 4 files': () => once(node, [validator, ...files], validatorEnv),
    'renovate-config-validator, 1 process per file': () =>
      files.reduce((sum, file) => sum + once(node, [validator, file], validatorEnv), 0),
  }
  const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let i = 0; i < runs; i++) for (const [name, fn] of Object.entries(cases)) times[name].push(fn())
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const base = median(times['renovate-config-validator, 1 process for 4 files'])
  for (const [name, xs] of Object.entries(times)) {
    console.log(
      `${name.padEnd(52)} median ${median(xs).toFixed(0).padStart(6)} ms   ratio ${(median(xs) / base).toFixed(2)}`,
    )
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}
