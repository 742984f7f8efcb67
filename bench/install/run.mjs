#!/usr/bin/env node
// The install a user pays for `npx konflux-gitops validate`, against its peer measured in the same run: the install
// of `npx --package renovate renovate-config-validator` (what users run today for the same Renovate check).
// Each install goes into an empty folder with an empty npm cache, from the registry npm is configured with.
//   1. npm pack of this checkout (after the build prepack runs), then `npm install <tarball>`: the default install.
//   2. `npm install renovate@<the range konflux-gitops is tested with>`: the peer.
//   3. the installed CLI runs `init` and `validate` in that folder (the install works, not only downloads).
// Prints packages, MB on disk, seconds and GPL-family licences in `npm ls --all`, and ratios against the peer.
// Exit 1 when the default install misses a target: <= 200 packages, <= 120 MB on disk, no AGPL/GPL package.
// Usage: node bench/install/run.mjs [--keep] [--with-renovate]   (--with-renovate also measures both together)
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const keep = process.argv.includes('--keep')
const withRenovate = process.argv.includes('--with-renovate')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'kg-bench-install-'))
const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim()

function sh(cmd, argv, cwd, env = process.env) {
  const result = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} (in ${cwd}) failed:\n${result.stderr}`)
  return result.stdout
}

/** Bytes on disk (allocated blocks, as du counts them), not following links. */
function diskBytes(path) {
  const info = statSync(path, { throwIfNoEntry: false, bigint: false })
  if (!info) return 0
  let total = info.blocks * 512
  if (info.isDirectory()) for (const name of readdirSync(path)) total += diskBytes(join(path, name))
  return total
}

/** Every installed package with its licence, from npm's own tree (`npm ls --all --long --json`). */
function licences(dir) {
  const listed = spawnSync('npm', ['ls', '--all', '--long', '--json'], { cwd: dir, encoding: 'utf8', maxBuffer: 1e9 })
  const tree = JSON.parse(listed.stdout)
  const seen = new Map()
  const visit = (deps) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      const key = `${name}@${node.version}`
      if (seen.has(key)) continue
      const licence = typeof node.license === 'string' ? node.license : (node.license?.type ?? 'UNKNOWN')
      seen.set(key, licence)
      visit(node.dependencies)
    }
  }
  visit(tree.dependencies)
  return seen
}

function install(name, spec) {
  const dir = join(work, name)
  const cache = join(work, `cache-${name}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `bench-${name}`, private: true })}\n`)
  const start = process.hrtime.bigint()
  sh('npm', ['install', '--no-audit', '--no-fund', '--cache', cache, '--prefer-online', ...spec], dir)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'))
  const packages = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/')).length
  const all = licences(dir)
  const gpl = [...all].filter(([, licence]) => /GPL/i.test(licence)).map(([key, licence]) => `${key} (${licence})`)
  return { name, dir, seconds, packages, mb: diskBytes(join(dir, 'node_modules')) / 1e6, gpl, listed: all.size }
}

process.stderr.write(`registry ${registry}, work in ${work}\n`)
process.stderr.write('npm run build, npm pack (what prepack does, with the build output kept off the JSON)…\n')
sh('npm', ['run', '--silent', 'build'], root)
const packed = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root))[0]
const tarball = join(work, packed.filename)
const results = []
process.stderr.write('installing konflux-gitops (default install)…\n')
results.push(install('konflux-gitops', [tarball]))
process.stderr.write('installing the peer: renovate (npx --package renovate renovate-config-validator)…\n')
const renovateSpec = `renovate@${pkg.peerDependencies.renovate}`
results.push(install('renovate-config-validator', [renovateSpec]))
if (withRenovate) {
  process.stderr.write('installing konflux-gitops with renovate next to it…\n')
  results.push(install('konflux-gitops+renovate', [tarball, renovateSpec]))
}

// The install works: init, then validate what init wrote (exit 0; without Renovate, a note names how to add it).
function smokeTest(r) {
  const bin = join(r.dir, 'node_modules', '.bin', 'konflux-gitops')
  const repo = join(r.dir, 'demo')
  sh(bin, ['init', repo, '--app', 'shop', '--component', 'api=quay.io/acme/shop/api'], r.dir)
  const report = JSON.parse(sh(bin, ['validate', repo, '--json'], r.dir))
  const findings = report.findings.map((f) => f.rule).join(', ') || 'none'
  return { ok: report.ok, line: `${r.name}: init + validate ok=${report.ok}, findings: ${findings}` }
}
const [own, peer] = results
const smokes = results.filter((r) => r.name.startsWith('konflux-gitops')).map(smokeTest)
const smoke = smokes.map((s) => s.line).join('\n')

const pad = (value, width) => String(value).padStart(width)
console.log(`\ninstall into an empty folder, empty npm cache (${registry}); one run each`)
console.log(
  `${'install'.padEnd(28)}${pad('packages', 9)}${pad('MB on disk', 12)}${pad('seconds', 9)}  GPL-family licences`,
)
for (const r of results) {
  console.log(
    `${r.name.padEnd(28)}${pad(r.packages, 9)}${pad(r.mb.toFixed(1), 12)}${pad(r.seconds.toFixed(1), 9)}  ${r.gpl.length ? r.gpl.join(', ') : 'none'}`,
  )
}
const ratio = (a, b) => (a / b).toFixed(2)
console.log(
  `\nkonflux-gitops / renovate-config-validator: packages ${ratio(own.packages, peer.packages)}x, disk ${ratio(own.mb, peer.mb)}x, time ${ratio(own.seconds, peer.seconds)}x`,
)
console.log(smoke)
const misses = [
  own.packages > 200 ? `${own.packages} packages (target <= 200)` : null,
  own.mb > 120 ? `${own.mb.toFixed(1)} MB (target <= 120)` : null,
  own.gpl.length ? `GPL-family licences: ${own.gpl.join(', ')}` : null,
  smokes.every((s) => s.ok) ? null : 'validate of a fresh init failed',
].filter(Boolean)
console.log(
  misses.length ? `TARGETS MISSED: ${misses.join('; ')}` : 'targets met: <= 200 packages, <= 120 MB, no AGPL/GPL',
)
if (!keep) rmSync(work, { recursive: true, force: true })
process.exit(misses.length ? 1 : 0)
