/**
 * The rules every writing command keeps, on each of the four shapes (kustomize | helm) x (renovate | dependabot),
 * with real git: pins are only ever added where missing, a Snapshot passes the release gate first, the spec's
 * images and app name reach every file, names Kubernetes would refuse are refused at the flag, and the commands the
 * generated README documents work as written.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { pinStoreFor } from '../../src/pins/index.js'
import { repoReader } from '../../src/repo/index.js'
import { addEnvironment, initRepo } from '../../src/scaffold/index.js'
import { readSpec } from '../../src/spec/index.js'
import { type CliResult, ROOT, runCli, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const FAILED_SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-failed.yaml')
const API = 'quay.io/redhat-user-workloads/acme-tenant/shop/api'
const SNAPSHOT_API = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'
const NEWER = `sha256:${'c'.repeat(64)}`
const RESOLVED = `sha256:${'d'.repeat(64)}`

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
  { flavour: 'helm', updater: 'dependabot' },
] as const

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })
  return stdout.trim()
}

function expectExit(result: CliResult, exit: number, code?: string): void {
  expect(result.exitCode, `${result.stdout.slice(0, 2000)}\n${result.stderr}`).toBe(exit)
  if (code) expect(result.json).toMatchObject({ error: { code } })
}

async function trackedText(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name === '.git') continue
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else files.set(relative(dir, path), await readFile(path, 'utf8'))
    }
  }
  await walk(dir)
  return files
}

async function pinsOf(repo: string, env: string): Promise<Record<string, string | undefined>> {
  const spec = (await readSpec(repo))!.spec
  return Object.fromEntries(
    pinStoreFor(spec)
      .read(spec, env, repoReader(repo))
      .filter((p) => p.component !== undefined)
      .map((p) => [p.component!, p.digest]),
  )
}

async function setPin(repo: string, env: string, component: string, digest: string, message: string): Promise<void> {
  const spec = (await readSpec(repo))!.spec
  for (const [path, text] of pinStoreFor(spec).write(spec, env, repoReader(repo), {
    pins: new Map([[component, digest]]),
  })) {
    await writeFile(join(repo, path), text)
  }
  await git(repo, 'commit', '-qam', message)
}

describe.each(SHAPES)('writing rules on $flavour + $updater', ({ flavour, updater }) => {
  const shape = ['--flavour', flavour, '--updater', updater]

  it('--pin only pins what is unpinned: a moved pin and a frozen environment stay; env add --pin pins the new one', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      expectExit(await runCli(['init', repo, '--from-snapshot', SNAPSHOT, '--pin', ...shape]), 0)
      // dev moved on (the updater's merge); a rollback left stage on an older digest and froze it.
      await setPin(repo, 'dev', 'api', NEWER, 'dev: newer api')
      expectExit(await runCli(['freeze', repo, '--env', 'stage']), 0)
      expectExit(await runCli(['env', 'add', 'qa', repo]), 0)
      expect((await pinsOf(repo, 'qa')).api).toBeUndefined()

      // Re-running init --pin with the Snapshot (older digests) moves nothing that is pinned.
      const again = await runCli(['init', repo, '--from-snapshot', SNAPSHOT, '--pin', '--json'])
      expectExit(again, 0)
      expect((await pinsOf(repo, 'dev')).api).toBe(NEWER)
      expect((await pinsOf(repo, 'qa')).api).toBe(SNAPSHOT_API)

      // With the registry's digest (resolved now), only the unpinned environment gets it; frozen stage is left.
      await setPin(repo, 'stage', 'api', NEWER, 'stage: newer api')
      expectExit(await runCli(['env', 'add', 'perf', repo]), 0)
      await initRepo({ dir: repo, pin: true, resolveDigest: async () => RESOLVED })
      expect(await pinsOf(repo, 'dev')).toMatchObject({ api: NEWER })
      expect(await pinsOf(repo, 'stage')).toMatchObject({ api: NEWER })
      expect(await pinsOf(repo, 'prod')).toMatchObject({ api: SNAPSHOT_API })
      expect(await pinsOf(repo, 'perf')).toMatchObject({ api: RESOLVED, web: RESOLVED })

      const added = await addEnvironment({ dir: repo, name: 'load', pin: true, resolveDigest: async () => NEWER })
      expect(added.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(await pinsOf(repo, 'load')).toMatchObject({ api: NEWER, web: NEWER })
      expect(await pinsOf(repo, 'perf')).toMatchObject({ api: RESOLVED })
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })

  it('init --from-snapshot applies the release gate; a changed image replaces its entries; one image, one component', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const refused = await runCli(['init', repo, '--from-snapshot', FAILED_SNAPSHOT, '--pin', ...shape, '--json'])
      expectExit(refused, 1, 'not-releasable')
      expect((refused.json as { error: { message: string } }).error.message).toContain('did not pass')
      const forced = await runCli(['init', repo, '--from-snapshot', FAILED_SNAPSHOT, ...shape, '--force', '--json'])
      expectExit(forced, 0)
      expect((forced.json as { notes: string[] }).notes.join('\n')).toContain('not releasable')

      // The user points api at another image in the spec and re-runs init: the old image leaves every file.
      const specFile = join(repo, 'konflux-gitops.yaml')
      await writeFile(specFile, (await readFile(specFile, 'utf8')).replace(API, 'quay.io/acme/elsewhere/api'))
      await git(repo, 'commit', '-qam', 'api moved')
      expectExit(await runCli(['init', repo]), 0)
      for (const [path, text] of await trackedText(repo)) {
        if (path === '.konflux-gitops/generated.json') continue
        expect(text, path).not.toContain(API)
      }
      const spec = (await readSpec(repo))!.spec
      const api = pinStoreFor(spec)
        .read(spec, 'prod', repoReader(repo))
        .filter((p) => p.component === 'api')
      expect(api.map((p) => p.repository)).toEqual(['quay.io/acme/elsewhere/api'])

      const twice = await runCli(['component', 'add', 'api2', repo, '--image', 'quay.io/acme/elsewhere/api', '--json'])
      expectExit(twice, 2, 'duplicate-image')
      expect((twice.json as { error: { message: string } }).error.message).toContain('api and api2')
      expectExit(await runCli(['init', repo, '--component', 'other=quay.io/acme/elsewhere/api', '--json']), 2)
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })

  it('a renamed app is renamed everywhere, labels and chart included', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const images = ['--component', 'api=quay.io/acme/tenant/api', '--component', 'web=quay.io/acme/tenant/web:8080']
      expectExit(await runCli(['init', repo, '--app', 'shop', ...images, ...shape]), 0)
      const renamed = await runCli(['init', repo, '--app', 'mart', '--json'])
      expectExit(renamed, 0)
      for (const [path, text] of await trackedText(repo)) {
        if (path === '.konflux-gitops/generated.json') continue
        expect(path).not.toMatch(/\bshop\b/)
        expect(text.match(/.{0,40}\bshop\b.{0,40}/)?.[0], path).toBeUndefined()
      }
      const files = await trackedText(repo)
      if (flavour === 'kustomize') {
        expect(files.get('components/api/base/kustomization.yaml')).toContain('app.kubernetes.io/part-of: mart')
        expect(files.get('environments/prod/kustomization.yaml')).toContain('namespace: mart-prod')
      } else {
        expect(files.has('charts/mart/Chart.yaml')).toBe(true)
      }
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })

  it('names Kubernetes would refuse are refused at the flag, with the limit; prod never auto-merges', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const long = 'a'.repeat(60)
      const tooLong = await runCli(['init', repo, '--app', long, '--component', 'api=quay.io/acme/x/api', '--json'])
      expectExit(tooLong, 2, 'invalid-name')
      expect((tooLong.json as { error: { message: string } }).error.message).toContain('at most 63')
      expect((tooLong.json as { error: { message: string } }).error.message).toContain(`${long}-dev`)

      expectExit(await runCli(['init', repo, '--from-snapshot', SNAPSHOT, ...shape]), 0)
      const head = await git(repo, 'rev-parse', 'HEAD')
      const env = await runCli(['env', 'add', 'e'.repeat(60), repo, '--json'])
      expectExit(env, 2, 'invalid-name')
      expect((env.json as { error: { message: string; hint: string } }).error.hint).toContain('--namespace')
      const scenario = await runCli([
        'integration',
        'add',
        repo,
        '--name',
        '1st-test',
        '--repo-url',
        'https://x/y.git',
        '--json',
      ])
      expectExit(scenario, 2, 'invalid-name')
      expect((scenario.json as { error: { message: string } }).error.message).toContain('DNS-1035')

      for (const name of ['prod', 'production']) {
        const envAdd = await runCli(['env', 'add', name === 'prod' ? 'prod' : 'production', repo, '--auto-merge'])
        expectExit(envAdd, 2)
        const presets = await runCli([
          'presets',
          'build',
          '--registry-prefix',
          'quay.io/acme',
          '--automerge',
          name,
          '--out',
          join(tmp, 'p'),
        ])
        expectExit(presets, 2)
        const reason = (r: CliResult) => r.stderr.replace(/^Error: --auto-?merge: /, '')
        expect(reason(envAdd)).toBe(reason(presets))
      }
      expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head)
    })
  })

  it('component remove --force finishes a removal that kept an edited file', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      expectExit(await runCli(['init', repo, '--from-snapshot', SNAPSHOT, ...shape]), 0)
      const edited = flavour === 'kustomize' ? 'components/web/base/deployment.yaml' : 'charts/shop/values.yaml'
      await writeFile(join(repo, edited), `${await readFile(join(repo, edited), 'utf8')}# tuned by hand\n`)
      const kept = await runCli(['component', 'remove', 'web', repo, '--json'])
      expectExit(kept, 1)
      expect((kept.json as { conflicts: { path: string }[] }).conflicts.map((c) => c.path)).toEqual([edited])
      const forced = await runCli(['component', 'remove', 'web', repo, '--force', '--json'])
      expectExit(forced, 0)
      const after = await trackedText(repo)
      if (flavour === 'kustomize') expect([...after.keys()].filter((p) => p.startsWith('components/web/'))).toEqual([])
      else expect(after.get(edited)).not.toContain('web')
      expect(await git(repo, 'status', '--porcelain')).toBe('')
      const nothing = await runCli(['component', 'remove', 'web', repo, '--force', '--json'])
      expectExit(nothing, 2, 'unknown-component')
    })
  })

  it('the commands the generated README documents run as written', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      expectExit(await runCli(['init', repo, '--from-snapshot', SNAPSHOT, '--pin', ...shape]), 0)
      const readme = await readFile(join(repo, 'README.md'), 'utf8')
      const commands = [...readme.matchAll(/npx konflux-gitops ([^`\n#]+)/g)].map((m) => m[1]!.trim())
      expect(commands.length).toBeGreaterThanOrEqual(6)
      const fill = (command: string) =>
        command
          .replaceAll('quay.io/ORG/TENANT/NAME', 'quay.io/acme/tenant/extra')
          .replaceAll('FROM', 'dev')
          .replaceAll('TO', 'stage')
          .replaceAll('NAME', 'extra')
          .replaceAll(' NS', ' extra-ns')
          .split(/\s+/)
      for (const command of commands) {
        const result = await runCli(fill(command), { cwd: repo })
        expect(result.exitCode, `${command}\n${result.stdout}\n${result.stderr}`).toBe(0)
      }
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })
})

describe('usage errors of the writing commands', () => {
  it('exit 2 with a hint that names only the command’s own flags', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      expectExit(await runCli(['init', repo, '--from-snapshot', SNAPSHOT, '--pin']), 0)
      await setPin(repo, 'dev', 'api', NEWER, 'dev: newer api')
      await git(repo, 'branch', 'taken')
      const branch = await runCli(['promote', repo, '--from', 'dev', '--to', 'stage', '--branch', 'taken', '--json'])
      expectExit(branch, 2, 'branch-exists')
      expect((branch.json as { error: { hint: string } }).error.hint).toContain('--branch')
      const ref = await runCli(['rollback', repo, '--env', 'prod', '--to', 'no-such-ref', '--json'])
      expectExit(ref, 2, 'unknown-ref')
      expect((ref.json as { error: { hint: string } }).error.hint).toMatch(/--to.*--steps/)
      for (const args of [
        ['promote', join(tmp, 'missing'), '--from', 'dev', '--to', 'stage'],
        ['freeze', join(tmp, 'missing'), '--env', 'prod'],
        ['component', 'add', 'x', join(tmp, 'missing'), '--image', 'quay.io/a/b'],
      ]) {
        const missing = await runCli([...args, '--json'])
        expectExit(missing, 2, 'not-a-konflux-gitops-repo')
        expect((missing.json as { error: { hint: string } }).error.hint).not.toMatch(/--\w/)
      }
      // A spec without a repository: an error with the way out, never a silent git init.
      const loose = join(tmp, 'loose')
      await run('mkdir', [loose])
      await writeFile(join(loose, 'konflux-gitops.yaml'), await readFile(join(repo, 'konflux-gitops.yaml'), 'utf8'))
      for (const args of [
        ['init', loose],
        ['component', 'add', 'x', loose, '--image', 'quay.io/a/b'],
        ['freeze', loose, '--env', 'prod'],
      ]) {
        const result = await runCli([...args, '--json'])
        expectExit(result, 2, 'not-a-git-repo')
        expect((result.json as { error: { hint: string } }).error.hint).toContain('git -C')
      }
      expect((await readdir(loose)).sort()).toEqual(['konflux-gitops.yaml'])
    })
  })
})
