/**
 * `doctor` on a healthy repo with a frozen environment, on all four shapes: the freeze is reported (who, why) and is
 * not a failure, the frozen environment may stay behind the tag, and every fix names the repo's own updater. Real
 * registry (Debian docker-registry, TLS + token auth), real git remote, the real `init --pin --push` and `freeze`.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)
let registry: TestRegistry

beforeAll(async () => {
  registry = await startRegistry({ tls: true, auth: 'token' })
})
afterAll(async () => {
  await registry?.stop()
})

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
  { flavour: 'helm', updater: 'dependabot' },
] as const

describe.each(SHAPES)('doctor with prod frozen on $flavour + $updater', ({ flavour, updater }) => {
  it('reports the freeze, is not a failure, and names only its own updater', async () => {
    await withTempDir(async (root) => {
      const repoPath = `acme/frozen-${flavour}-${updater}/api`
      const pinned = await registry.pushImage(repoPath, 'build-1')
      await registry.moveTag(repoPath, 'released', pinned)
      const remote = join(root, 'remote.git')
      await run('git', ['init', '-q', '--bare', '--initial-branch=main', remote])
      const dir = join(root, 'gitops')
      const cli = async (args: string[], cwd = root) => {
        const result = await runCli(args, { cwd, env: registry.env })
        expect(result.exitCode, `${args.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0)
      }
      await cli([
        'init',
        dir,
        '--app',
        'shop',
        '--component',
        `api=${registry.host}/${repoPath}`,
        '--ci',
        'none',
        '--flavour',
        flavour,
        '--updater',
        updater,
        '--pin',
        '--git-remote',
        `file://${remote}`,
        '--push',
      ])
      await cli(['freeze', '--env', 'prod', '--reason', 'incident 42'], dir)
      await run('git', ['push', '-q', 'origin', 'main'], { cwd: dir })
      // released moves on: prod stays where the freeze holds it.
      const next = await registry.pushImage(repoPath, 'build-2')
      await registry.moveTag(repoPath, 'released', next)

      // The built CLI, as a user runs it (it loads Renovate's modules from node_modules directly).
      const result = await runCli(['doctor', dir, '--json'], { env: registry.env })
      expect(await schemaErrors('doctor', result.json), result.stdout + result.stderr).toEqual([])
      const report = result.json as {
        ok: boolean
        checks: { id: string; status: string; message: string; fix: string | null }[]
      }
      const failed = report.checks.filter((c) => c.status === 'fail')
      expect(failed, JSON.stringify(failed, null, 1)).toEqual([])
      expect(report.ok).toBe(true)
      expect(result.exitCode).toBe(0)
      const byId = (id: string) => report.checks.find((c) => c.id === id)
      const freeze = byId('updater.frozen.prod')
      expect(freeze?.status).toBe('ok')
      expect(freeze?.message).toMatch(/prod is frozen by .+ since .+: incident 42/)
      const own = updater === 'renovate' ? 'Renovate' : 'Dependabot'
      expect(freeze?.message).toContain(`${own} opens no pull request for it`)
      expect(byId('registry.pins.prod')).toMatchObject({ status: 'ok', fix: null })
      expect(byId('registry.pins.prod')?.message).toContain('frozen by')
      // The unfrozen environments are behind, as expected until the updater's pull request merges.
      expect(byId('registry.pins.dev')?.status).toBe('warn')
      const other = updater === 'renovate' ? 'Dependabot' : 'Renovate'
      const mentions = report.checks.filter((c) => `${c.message} ${c.fix ?? ''}`.includes(other))
      expect(mentions, `a ${own} repo is never told about ${other}`).toEqual([])
      expect(byId('registry.pins.dev')?.fix).toContain(own)

      if (updater === 'renovate') {
        // The real Renovate lookup proposes the moved digest for dev and stage, and nothing for frozen prod.
        const lookup = await runCli(['doctor', dir, '--renovate', '--json'], { env: registry.env })
        const looked = lookup.json as typeof report & {
          renovate: { proposals: { packageFile: string; newDigest: string | null }[] } | null
        }
        const line = looked.checks.find((c) => c.id === 'updater.renovate-lookup')
        expect(line?.status, JSON.stringify(line)).toBe('ok')
        const files = looked.renovate!.proposals.map((p) => p.packageFile)
        expect(files.some((f) => f.startsWith('environments/dev/'))).toBe(true)
        expect(files.filter((f) => f.startsWith('environments/prod/'))).toEqual([])
      }
    })
  })
})
