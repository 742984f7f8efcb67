#!/usr/bin/env node
// `init` and its no-op re-run against peers measured in the same run: the same files copied by a plain script and
// committed with git (the peer of a first run), the CLI's own start-up, and `git status` (a no-op re-run's floor).
// Usage: node bench/init/run.mjs [COMPONENTS] [RUNS]   (default 50 components x 4 environments, 5 runs each)
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const components = Number(process.argv[2] ?? 50)
const runs = Number(process.argv[3] ?? 5)
const cli = join(root, 'bin', 'run.js')
const args = ['--app', 'shop']
for (let i = 0; i < components; i++) args.push('--component', `c${i}=quay.io/acme/shop/c${i}:${8000 + i}`)
for (const env of ['dev', 'stage', 'prod', 'perf']) args.push('--env', env)
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@example.com',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@example.com',
}

function time(fn) {
  const start = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}
function run(cmd, argv, cwd) {
  const result = spawnSync(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: gitEnv })
  if (result.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${result.stderr}`)
}
function listFiles(dir, prefix = '') {
  return readdirSync(dir).flatMap((name) => {
    if (name === '.git') return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path, `${prefix}${name}/`) : [`${prefix}${name}`]
  })
}

const work = mkdtempSync(join(tmpdir(), 'kg-bench-init-'))
const template = join(work, 'template')
run(process.execPath, [cli, 'init', template, ...args], work)
const files = listFiles(template)
const times = {
  'init (new repo)': [],
  'peer: copy files + git init/add/commit': [],
  'init re-run (no change)': [],
  'floor: konflux-gitops --version': [],
  'floor: git status': [],
}
for (let i = 0; i < runs; i++) {
  const ours = join(work, `ours-${i}`)
  times['init (new repo)'].push(time(() => run(process.execPath, [cli, 'init', ours, ...args], work)))
  const peer = join(work, `peer-${i}`)
  times['peer: copy files + git init/add/commit'].push(
    time(() => {
      cpSync(template, peer, { recursive: true, filter: (src) => !src.includes(`${template}/.git`) })
      run('git', ['init', '-q', '--initial-branch=main'], peer)
      run('git', ['add', '-A'], peer)
      run('git', ['commit', '-qm', 'peer'], peer)
    }),
  )
  times['init re-run (no change)'].push(time(() => run(process.execPath, [cli, 'init', ours], work)))
  times['floor: konflux-gitops --version'].push(time(() => run(process.execPath, [cli, '--version'], work)))
  times['floor: git status'].push(time(() => run('git', ['status', '--porcelain'], ours)))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  `init bench: ${components} components x 4 environments = ${files.length} files, ${runs} runs, Node ${process.version}, git ${execFileSync('git', ['--version']).toString().trim().split(' ')[2]}`,
)
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
for (const [name, value] of Object.entries(m))
  console.log(`${name.padEnd(42)} median ${value.toFixed(0).padStart(6)} ms`)
console.log(
  `ratio init / peer:            ${(m['init (new repo)'] / m['peer: copy files + git init/add/commit']).toFixed(2)}x`,
)
console.log(
  `ratio re-run / CLI start-up:  ${(m['init re-run (no change)'] / m['floor: konflux-gitops --version']).toFixed(2)}x`,
)
console.log(`ratio re-run / git status:    ${(m['init re-run (no change)'] / m['floor: git status']).toFixed(2)}x`)
rmSync(work, { recursive: true, force: true })
