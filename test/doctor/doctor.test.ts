/**
 * `doctor` against real services: Debian's docker-registry with TLS and token auth, a real bare git remote, a repo
 * made by `init --pin --push`. Each check has a healthy case and a planted fault it must name, with its fix.
 */
import { execFile } from 'node:child_process'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runDoctor } from '../../src/doctor/index.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { mintToken } from '../harness/token-server.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)

interface Check {
  id: string
  link: string
  status: 'ok' | 'warn' | 'fail'
  message: string
  fix: string | null
}
interface Report {
  ok: boolean
  checks: Check[]
  renovate: {
    proposals: Array<{ packageFile: string; depName: string; updateType: string; newDigest: string | null }>
  } | null
}

let registry: TestRegistry

beforeAll(async () => {
  registry = await startRegistry({ tls: true, auth: 'token' })
})
afterAll(async () => {
  await registry?.stop()
})

/** distribution deletes a manifest by digest only, and with it every tag pointing at it. */
async function deleteManifest(repoPath: string, digest: string): Promise<void> {
  const token = mintToken(registry.signer!, 'test', [
    { type: 'repository', name: repoPath, actions: ['delete', 'pull'] },
  ])
  const dispatcher = new Agent({ connect: { ca: registry.caPem! } })
  const res = await request(`${registry.url}/v2/${repoPath}/manifests/${digest}`, {
    method: 'DELETE',
    dispatcher,
    headers: { authorization: `Bearer ${token}` },
  })
  await res.body.dump()
  await dispatcher.close()
  expect(res.statusCode).toBe(202)
}

const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd })

interface Healthy {
  dir: string
  remote: string
  repoPath: string
  pinned: string
}

/** A healthy loop: `released` → a pushed image, `init --pin` pins it in dev/stage/prod, pushed to a bare remote. */
async function healthyRepo(root: string, name: string): Promise<Healthy> {
  const repoPath = `acme/${name}/api`
  const pinned = await registry.pushImage(repoPath, 'build-1')
  await registry.moveTag(repoPath, 'released', pinned)
  const remote = join(root, 'remote.git')
  await run('git', ['init', '-q', '--bare', '--initial-branch=main', remote])
  const dir = join(root, 'gitops')
  const init = await runCli(
    [
      'init',
      dir,
      '--app',
      'shop',
      '--component',
      `api=${registry.host}/${repoPath}`,
      '--ci',
      'none',
      '--pin',
      '--git-remote',
      `file://${remote}`,
      '--push',
    ],
    { env: registry.env },
  )
  expect(init.exitCode, init.stderr).toBe(0)
  return { dir, remote, repoPath, pinned }
}

/**
 * Most cases run doctor in-process (the Renovate modules load once per worker, which keeps this file fast); the
 * healthy case and the usage errors go through the built CLI, --json and the schema.
 */
async function doctor(dir: string, extra: { renovate?: boolean; timeoutMs?: number } = {}) {
  const report = await runDoctor(dir, {
    timeoutMs: extra.timeoutMs ?? 15_000,
    renovate: extra.renovate ?? false,
    registry: { ca: registry.caPem!, dockerConfigPath: registry.dockerConfigPath },
    env: { ...process.env, ...registry.env },
  })
  const json = JSON.parse(JSON.stringify(report)) as Report
  expect(await schemaErrors('doctor', json)).toEqual([])
  return { exitCode: report.ok ? 0 : 1, report: json }
}

async function doctorCli(dir: string): Promise<{ exitCode: number; report: Report }> {
  const result = await runCli(['doctor', dir, '--json'], { env: registry.env })
  expect(await schemaErrors('doctor', result.json), result.stdout + result.stderr).toEqual([])
  return { exitCode: result.exitCode, report: result.json as Report }
}

const check = (report: Report, id: string): Check => {
  const found = report.checks.find((c) => c.id === id)
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`)
  return found
}
const failing = (report: Report) => report.checks.filter((c) => c.status === 'fail').map((c) => c.id)

describe('doctor', () => {
  test('a healthy loop is clean; the human output is one line per check', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'healthy')
      const { exitCode, report } = await doctorCli(repo.dir)
      expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([])
      expect(exitCode).toBe(0)
      expect(check(report, 'registry.tag.api').message).toContain(repo.pinned)
      expect(check(report, 'registry.tag.api').message).toContain('docker config credentials')
      expect(check(report, 'git.branch').status).toBe('ok')
      expect(check(report, 'updater.coverage').message).toContain('all 3 environment')

      const human = await runCli(['doctor', repo.dir], { env: registry.env })
      expect(human.exitCode, human.stdout + human.stderr).toBe(0)
      expect(human.stdout).toMatch(/^ok +registry +.*acme\/healthy\/api:released → sha256:/m)
      expect(human.stdout).toMatch(/\d+ ok, 0 warning\(s\), 0 failed/)

      // Without the credentials: the registry line says so and how to log in.
      const anonymous = await runDoctor(repo.dir, {
        registry: { ca: registry.caPem!, dockerConfigPath: join(root, 'no-such-config.json') },
      })
      const tag = anonymous.checks.find((c) => c.id === 'registry.tag.api')
      expect(tag?.status).toBe('fail')
      expect(tag?.message, tag?.message).toContain('(read anonymously)')
      expect(tag?.fix).toContain(`docker login ${registry.host}`)
    })
  })

  test('deleted release tag: registry fails for that component and says how to get the tag back', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'tagless')
      // released moves to a new image, which is then deleted: the tag is gone, the pinned image stays.
      const next = await registry.pushImage(repo.repoPath, 'build-2')
      await registry.moveTag(repo.repoPath, 'released', next)
      await deleteManifest(repo.repoPath, next)
      expect(await registry.resolveTag(repo.repoPath, 'released')).toBeUndefined()

      const { exitCode, report } = await doctor(repo.dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['registry.tag.api'])
      const tag = check(report, 'registry.tag.api')
      expect(tag.message).toMatch(/acme\/tagless\/api:released does not exist/)
      expect(tag.fix).toContain('konflux-gitops release')
      expect(check(report, 'registry.pins.prod').status).toBe('ok')
    })
  })

  test('environments behind the tag warn; a pinned digest that is gone fails naming the environment', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'gone')
      const next = await registry.pushImage(repo.repoPath, 'build-2')
      await registry.moveTag(repo.repoPath, 'released', next)

      const behind = await doctor(repo.dir)
      expect(behind.exitCode).toBe(0)
      expect(check(behind.report, 'registry.pins.dev').status).toBe('warn')
      expect(check(behind.report, 'registry.pins.dev').message).toMatch(/dev is behind released: api sha256:/)

      await deleteManifest(repo.repoPath, repo.pinned)
      const { exitCode, report } = await doctor(repo.dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['registry.pins.dev', 'registry.pins.stage', 'registry.pins.prod'])
      const prod = check(report, 'registry.pins.prod')
      expect(prod.message).toContain('which the registry no longer has')
      expect(prod.message).toContain(repo.pinned.slice(0, 19))
      expect(prod.fix).toContain('Pin a digest that exists')
    })
  })

  test('wrong Argo CD repoURL fails; the ssh spelling of the same repository passes', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'argo')
      const file = join(repo.dir, 'argocd', 'applicationset.yaml')
      const original = await readFile(file, 'utf8')
      const remoteUrl = `file://${repo.remote}`
      expect(original).toContain(remoteUrl)
      await writeFile(file, original.replaceAll(remoteUrl, 'https://github.com/someone-else/shop-gitops.git'))

      const { exitCode, report } = await doctor(repo.dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['argocd.repo-url'])
      const line = check(report, 'argocd.repo-url')
      expect(line.message).toContain('reads https://github.com/someone-else/shop-gitops.git')
      expect(line.fix).toContain(`repoURL: ${remoteUrl}`)

      // Remote in https spelling, Argo CD in scp-like ssh spelling: the same repository. (The remote is not reachable:
      // that is git's line, not Argo CD's.)
      await git(repo.dir, 'remote', 'set-url', 'origin', 'https://github.com/acme/shop-gitops.git')
      await writeFile(file, original.replaceAll(remoteUrl, 'git@github.com:acme/shop-gitops'))
      const spelled = await doctor(repo.dir, { timeoutMs: 3_000 })
      expect(check(spelled.report, 'argocd.repo-url').status).toBe('ok')
      expect(check(spelled.report, 'argocd.target-revision').status).toBe('ok')
      expect(check(spelled.report, 'argocd.paths').status).toBe('ok')
    })
  })

  test('unreachable remote fails with the fix; an unpushed local commit warns', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'remote')
      await writeFile(join(repo.dir, 'NOTES.md'), 'local change\n')
      await git(repo.dir, 'add', 'NOTES.md')
      await git(repo.dir, 'commit', '-q', '-m', 'not pushed')
      const ahead = await doctor(repo.dir)
      expect(ahead.exitCode).toBe(0)
      expect(check(ahead.report, 'git.branch').status).toBe('warn')
      expect(check(ahead.report, 'git.branch').message).toContain('1 commit(s) ahead')

      await rename(repo.remote, `${repo.remote}.moved`)
      const { exitCode, report } = await doctor(repo.dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['git.remote'])
      const line = check(report, 'git.remote')
      expect(line.message).toContain('cannot be reached')
      expect(line.fix).toContain('git remote set-url origin')
    })
  })

  test('updater config that misses an environment fails naming it; invalid layout fails the repo check', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'updater')
      const file = join(repo.dir, 'renovate.json')
      const config = JSON.parse(await readFile(file, 'utf8'))
      await writeFile(file, JSON.stringify({ ...config, ignorePaths: ['environments/prod/**'] }, null, 2))
      const { exitCode, report } = await doctor(repo.dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['updater.coverage'])
      const line = check(report, 'updater.coverage')
      expect(line.message).toContain('prod (environments/prod/kustomization.yaml')
      expect(line.message).not.toContain('stage (')
      expect(line.fix).toContain('ignorePaths')

      await writeFile(file, JSON.stringify({ ...config, enabledManagers: ['dockerfile'] }, null, 2))
      const off = await doctor(repo.dir)
      expect(check(off.report, 'updater.coverage').message).toContain('kustomize manager is off')

      await writeFile(file, JSON.stringify({ ...config, automergeType: 'rocket' }, null, 2))
      const invalid = await doctor(repo.dir)
      expect(check(invalid.report, 'updater.config').status).toBe('fail')
      expect(check(invalid.report, 'updater.config').message).toContain('automergeType')

      await writeFile(file, JSON.stringify(config, null, 2))
      await unlink(join(repo.dir, 'environments', 'stage', 'kustomization.yaml'))
      const layout = await doctor(repo.dir)
      expect(failing(layout.report)).toContain('repo.validate')
      expect(check(layout.report, 'repo.validate').message).toContain('environment-missing')
    })
  })

  test('helm values for Renovate and manifest patches for Dependabot are covered; a missed directory fails', async () => {
    await withTempDir(async (root) => {
      const make = async (name: string, extra: string[]) => {
        const dir = join(root, name)
        const init = await runCli(
          [
            'init',
            dir,
            '--app',
            'shop',
            '--component',
            `api=${registry.host}/acme/${name}/api`,
            '--ci',
            'none',
            ...extra,
          ],
          { env: registry.env },
        )
        expect(init.exitCode, init.stderr).toBe(0)
        return dir
      }
      const helm = await make('helm', ['--flavour', 'helm'])
      const helmReport = (await doctor(helm)).report
      expect(check(helmReport, 'updater.coverage')).toMatchObject({ status: 'ok' })
      expect(check(helmReport, 'updater.coverage').message).toContain('helm-values manager reads all 3')

      const bot = await make('bot', ['--updater', 'dependabot'])
      expect(check((await doctor(bot)).report, 'updater.coverage').status).toBe('ok')
      const file = join(bot, '.github', 'dependabot.yml')
      const text = await readFile(file, 'utf8')
      expect(text).toContain('/environments/prod/images')
      await writeFile(file, text.replaceAll('/environments/prod/images', '/environments/prod'))
      const line = check((await doctor(bot)).report, 'updater.coverage')
      expect(line.status).toBe('fail')
      expect(line.message).toContain('no docker entry lists /environments/prod/images')
    })
  })

  test('outside a konflux-gitops repo: one clear failure, exit 1', async () => {
    await withTempDir(async (dir) => {
      const { exitCode, report } = await doctorCli(dir)
      expect(exitCode).toBe(1)
      expect(failing(report)).toEqual(['repo.spec', 'git.repository'])
      expect(check(report, 'repo.spec').fix).toContain('konflux-gitops init')
    })
    const missing = await runCli(['doctor', '/nonexistent/dir'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('/nonexistent/dir is not a directory')
  })

  test('--renovate runs the real Renovate lookup and lists the digest it would propose', async () => {
    await withTempDir(async (root) => {
      const repo = await healthyRepo(root, 'lookup')
      const next = await registry.pushImage(repo.repoPath, 'build-2')
      await registry.moveTag(repo.repoPath, 'released', next)
      const { exitCode, report } = await doctor(repo.dir, { renovate: true })
      const line = check(report, 'updater.renovate-lookup')
      expect(line.status, line.message).toBe('ok')
      expect(exitCode).toBe(0)
      expect(report.renovate?.proposals.map((p) => [p.packageFile, p.updateType, p.newDigest]).sort()).toEqual(
        ['dev', 'prod', 'stage'].map((env) => [`environments/${env}/kustomization.yaml`, 'digest', next]),
      )
      // A fault Renovate itself sees: prod left out of its file patterns.
      const file = join(repo.dir, 'renovate.json')
      const config = JSON.parse(await readFile(file, 'utf8'))
      await writeFile(file, JSON.stringify({ ...config, ignorePaths: ['environments/prod/**'] }, null, 2))
      await git(repo.dir, 'commit', '-q', '-am', 'ignore prod')
      const faulty = await doctor(repo.dir, { renovate: true })
      expect(check(faulty.report, 'updater.renovate-lookup').status).toBe('fail')
      expect(check(faulty.report, 'updater.renovate-lookup').message).toContain(
        'did not read environments/prod/kustomization.yaml',
      )
    })
  }, 240_000)
})
