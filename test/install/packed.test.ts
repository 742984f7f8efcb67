import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectExit, runCli } from '../helpers/cli.js'
import { installPacked, type PackedInstall } from '../helpers/packed.js'

type Finding = { rule: string; severity: string; message: string; file: string }
type ErrorDoc = { error: { code: string; message: string; hint: string | null } }

/**
 * The packed package installed the default way (no optional peers) and used as a user would: init, validate,
 * the commands that need an optional peer. bench/install measures the same with a real registry.
 */
describe('the packed package, installed without its optional dependencies', () => {
  let dir: string
  let installed: PackedInstall
  const cli = (args: string[]) => runCli(args, { cwd: dir, bin: installed.bin, env: { HOME: dir } })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kg-packed-'))
    installed = await installPacked(dir)
  }, 120_000)
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('ships what runs: no source maps, no code cache, no TypeScript sources, licence and changelog included', () => {
    // A V8 code cache is valid only for the Node that made it: the first run writes one for the user's Node.
    expect(installed.files.filter((f) => /\.(map|ts|v8cache)$/.test(f))).toEqual([])
    expect(installed.files).toEqual(
      expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'package.json', 'bin/run.js', 'schemas/renovate-config.json']),
    )
    expect(installed.dependencies).not.toContain('renovate')
    expect(installed.dependencies).not.toContain('@kubernetes/client-node')
  })

  const shapes = [
    { flavour: 'kustomize', updater: 'renovate' },
    { flavour: 'helm', updater: 'renovate' },
    { flavour: 'kustomize', updater: 'dependabot' },
    { flavour: 'helm', updater: 'dependabot' },
  ] as const
  it.each(shapes)('init writes a $flavour/$updater repository that validate passes', async ({ flavour, updater }) => {
    const repo = `${flavour}-${updater}`
    const init = ['init', repo, '--app', 'shop', '--component', 'api=quay.io/acme/shop/api']
    expectExit(await cli([...init, '--flavour', flavour, '--updater', updater]), 0)
    const result = await cli(['validate', repo, '--json'])
    expectExit(result, 0)
    const findings = (result.json as { findings: Finding[] }).findings
    if (updater === 'dependabot') {
      expect(findings).toEqual([])
      return
    }
    // Renovate's rules say plainly what did not run and how to turn it on.
    expect(findings.map((f) => [f.rule, f.severity, f.file])).toEqual([
      ['renovate-not-installed', 'note', 'renovate.json'],
    ])
    expect(findings[0]!.message).toMatch(/npm install renovate@\^\d+/)
    expect(findings[0]!.message).toContain('npx --yes --package konflux-gitops@')
  })

  it('without Renovate, validate still checks renovate.json against the shipped schema', async () => {
    const file = join(dir, 'kustomize-renovate', 'renovate.json')
    const config = JSON.parse(await readFile(file, 'utf8'))
    await writeFile(file, `${JSON.stringify({ ...config, automergeType: 'rocket' }, null, 2)}\n`)
    const result = await cli(['validate', 'kustomize-renovate', '--json'])
    expectExit(result, 1)
    const invalid = (result.json as { findings: Finding[] }).findings.filter(
      (f) => f.rule === 'renovate-config-invalid',
    )
    expect(invalid).toEqual([expect.objectContaining({ file: 'renovate.json', severity: 'error' })])
    expect(invalid[0]!.message).toMatch(/automergeType must be one of .*"pr"/)
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`)
  })

  it('presets build says it needs renovate and how to install it, and writes nothing', async () => {
    const result = await cli([
      'presets',
      'build',
      '--out',
      'presets-out',
      '--registry-prefix',
      'quay.io/acme',
      '--json',
    ])
    expectExit(result, 1)
    const { error } = result.json as ErrorDoc
    expect(error.code).toBe('optional-dependency-missing')
    expect(error.message).toContain('needs renovate')
    expect(error.hint).toMatch(/npm install renovate@\^\d+/)
  })

  it('doctor --renovate says the Renovate lines need renovate, and how to install it', async () => {
    // The registry is a closed loopback port: doctor's registry line fails fast and nothing leaves the machine.
    const init = ['init', 'doctored', '--app', 'shop', '--component', 'api=127.0.0.1:1/acme/shop/api']
    expectExit(await cli(init), 0)
    const result = await cli(['doctor', 'doctored', '--renovate', '--timeout', '5', '--json'])
    const checks = (result.json as { checks: { id: string; status: string; message: string; fix: string | null }[] })
      .checks
    const lookup = checks.find((c) => c.id === 'updater.renovate-lookup')!
    expect(lookup).toMatchObject({ status: 'fail', message: expect.stringContaining('renovate is not installed') })
    expect(lookup.fix).toMatch(/npm install renovate@\^\d+/)
    expect(checks.find((c) => c.id === 'updater.coverage')).toMatchObject({ status: 'warn' })
  })

  it('releaser --kubernetes says it needs @kubernetes/client-node before it opens anything', async () => {
    const secret = join(dir, 'webhook-secret')
    await writeFile(secret, 'a'.repeat(64))
    const result = await cli([
      'releaser',
      '--state',
      join(dir, 'state'),
      '--webhook-secret-file',
      secret,
      '--listen',
      '127.0.0.1:0',
      '--kubernetes',
      '--allow-any-registry',
      '--json',
    ])
    expectExit(result, 1)
    const { error } = result.json as ErrorDoc
    expect(error.code).toBe('optional-dependency-missing')
    expect(error.hint).toMatch(/npm install @kubernetes\/client-node@\^\d+/)
  })
})

describe('the packed package with renovate installed next to it', () => {
  let dir: string
  let installed: PackedInstall

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kg-packed-renovate-'))
    installed = await installPacked(dir, ['renovate'])
  }, 120_000)
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('validate runs Renovate’s own checks: no note, and a deprecated option is a migration warning', async () => {
    const cli = (args: string[]) => runCli(args, { cwd: dir, bin: installed.bin, env: { HOME: dir } })
    expectExit(await cli(['init', 'demo', '--app', 'shop', '--component', 'api=quay.io/acme/shop/api']), 0)
    const clean = await cli(['validate', 'demo', '--json'])
    expectExit(clean, 0)
    expect((clean.json as { findings: Finding[] }).findings).toEqual([])
    const file = join(dir, 'demo', 'renovate.json')
    const config = JSON.parse(await readFile(file, 'utf8'))
    await writeFile(file, JSON.stringify({ ...config, baseBranches: ['main'] }))
    const migrated = await cli(['validate', 'demo', '--json'])
    expect((migrated.json as { findings: Finding[] }).findings.map((f) => f.rule)).toEqual(['renovate-config-warning'])
  })
})
