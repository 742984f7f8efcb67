#!/usr/bin/env node
// `history` (one `git cat-file --batch` process for every file version) against the plain way of reading history,
// `git show REV:path` once per version, measured in the same run on the same generated repo: 20 components x
// 3 environments, COMMITS pin changes (each moves one environment's pins). Also prints the floor: `git log` alone.
// Needs a build. Usage: node bench/history/run.mjs [COMMITS] [RUNS]   (default 300 commits, 3 runs)
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { history } = await import(join(root, 'dist/src/history/index.js'))
const commits = Number(process.argv[2] ?? 300)
const runs = Number(process.argv[3] ?? 3)
const envs = ['dev', 'stage', 'prod']
const names = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`)
const digest = (n) => `sha256:${String(n).padStart(64, '0')}`

const dir = mkdtempSync(join(tmpdir(), 'kg-bench-history-'))
const git = (...args) =>
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir })
const overlay = (env, n) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: big-${env}\nimages:\n${names
    .map((name) => `  - name: quay.io/acme/big/${name}\n    newTag: released@${digest(n)}\n`)
    .join('')}`
try {
  git('init', '-q', '-b', 'main')
  writeFileSync(
    join(dir, 'konflux-gitops.yaml'),
    `apiVersion: konflux-gitops.dev/v1alpha1\nkind: GitOpsRepo\napp: big\ncomponents:\n${names
      .map((n) => `  - name: ${n}\n    image: quay.io/acme/big/${n}`)
      .join('\n')}\nenvironments:\n${envs.map((e) => `  - name: ${e}`).join('\n')}\n`,
  )
  for (const env of envs) {
    mkdirSync(join(dir, 'environments', env), { recursive: true })
    writeFileSync(join(dir, 'environments', env, 'kustomization.yaml'), overlay(env, 0))
  }
  git('add', '-A')
  git('commit', '-q', '-m', 'init')
  for (let i = 1; i <= commits; i++) {
    const env = envs[i % envs.length]
    writeFileSync(join(dir, 'environments', env, 'kustomization.yaml'), overlay(env, i))
    git('commit', '-q', '-am', `Release ${i} to ${env}`)
  }

  const files = envs.map((env) => `environments/${env}/kustomization.yaml`)
  const ours = async () => (await history({ dir })).changes.length
  // The peer: the same walk, each file version read by its own `git show` (what a script would do).
  const peer = () => {
    const log = execFileSync('git', ['log', '--first-parent', '--format=%H %P', '--', ...files], { cwd: dir })
      .toString()
      .trim()
      .split('\n')
    let reads = 0
    for (const line of log) {
      const [commit, parent] = line.split(' ')
      for (const rev of [commit, parent].filter(Boolean)) {
        for (const file of files) {
          spawnSync('git', ['show', `${rev}:${file}`], { cwd: dir })
          reads++
        }
      }
    }
    return reads
  }
  const floor = () => execFileSync('git', ['log', '--first-parent', '--format=%H', '--', ...files], { cwd: dir }).length

  const time = async (fn) => {
    const start = process.hrtime.bigint()
    await fn()
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const samples = { ours: [], peer: [], floor: [] }
  await ours() // warm the module and the page cache
  for (let r = 0; r < runs; r++) {
    samples.ours.push(await time(ours))
    samples.peer.push(await time(peer))
    samples.floor.push(await time(floor))
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const [o, p, f] = [median(samples.ours), median(samples.peer), median(samples.floor)]
  console.log(
    `history over ${commits} pin commits x ${envs.length} envs x ${names.length} components (${await ours()} changes), median of ${runs}`,
  )
  console.log(`  history (cat-file --batch): ${o.toFixed(0)} ms`)
  console.log(`  peer (git show per version): ${p.toFixed(0)} ms   ratio ours/peer ${(o / p).toFixed(2)}`)
  console.log(`  floor (git log only):        ${f.toFixed(0)} ms   ratio ours/floor ${(o / f).toFixed(1)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
