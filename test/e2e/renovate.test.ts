/**
 * End-to-end proof that the presets do what they promise: real Renovate, real docker-registry (TLS from a test CA),
 * a GitOps repo made by `init`, `:released` moved to a new digest. Renovate runs with `--platform=local
 * --dry-run=lookup` and reports what it would propose; nothing leaves 127.0.0.1 (a dead proxy catches the rest).
 *
 * Renovate's JSON report carries each update's type, digest and branch, but not the group name, automerge flag or
 * commit text it resolved; those come from its own trace log ("generateBranchConfig", "commitMessage: ..."), and the
 * commit body is compiled with Renovate's own template engine from that resolved config.
 */
import { execFile } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadRenovate } from '../../src/renovate/validator.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)
const RENOVATE = join(ROOT, 'node_modules', 'renovate', 'dist', 'renovate.js')
const ENVIRONMENTS = ['dev', 'stage', 'prod']
const COMPONENTS = ['api', 'web']

interface ReportDep {
  depName: string
  currentValue?: string
  currentDigest?: string
  skipReason?: string
  updates: Array<{ updateType: string; newDigest?: string; newValue?: string; branchName?: string }>
}
interface Report {
  repositories: Record<
    string,
    {
      problems: Array<{ level: number; msg: string }>
      packageFiles: Record<string, Array<{ packageFile: string; deps: ReportDep[] }>>
    }
  >
}
/** One upgrade as Renovate resolved it for a branch (its merged config). */
interface ResolvedUpgrade {
  branchName: string
  groupName?: string
  automerge?: boolean
  depName: string
  parentDir: string
  updateType: string
  currentDigest?: string
  newDigest?: string
  commitBody?: string
  [key: string]: unknown
}
interface RenovateRun {
  report: Report
  upgrades: ResolvedUpgrade[]
  commitMessages: string[]
}

let registry: TestRegistry
const image = (component: string) => `${registry.host}/acme/shop/${component}`

beforeAll(async () => {
  registry = await startRegistry({ tls: true, auth: 'none' })
})
afterAll(async () => {
  await registry?.stop()
})

/** `init` a dev/stage/prod repo for api and web; `--pin` pins each environment to the tag's current digest. */
async function initRepo(dir: string, pin: boolean, extra: string[] = []): Promise<void> {
  const result = await runCli(
    [
      'init',
      dir,
      '--app',
      'shop',
      ...COMPONENTS.flatMap((name) => ['--component', `${name}=${image(name)}`]),
      ...ENVIRONMENTS.flatMap((env) => ['--env', env]),
      '--ci',
      'none',
      ...(pin ? ['--pin'] : []),
      ...extra,
    ],
    { env: registry.env },
  )
  expect(result.exitCode, result.stderr).toBe(0)
}

/** Renovate's local platform reads the files git tracks. */
async function commitAll(dir: string, message: string): Promise<void> {
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: dir })
  await git('add', '-A')
  await git('commit', '-q', '-m', message)
}

/** One real Renovate run over the repo in `dir`. */
async function renovate(dir: string, workDir: string): Promise<RenovateRun> {
  const reportPath = join(workDir, 'renovate-report.json')
  let log: string
  try {
    const out = await run(
      process.execPath,
      [RENOVATE, '--platform=local', '--dry-run=lookup', '--report-type=file', `--report-path=${reportPath}`],
      {
        cwd: dir,
        timeout: 90_000,
        maxBuffer: 256 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: workDir,
          NODE_EXTRA_CA_CERTS: registry.env.NODE_EXTRA_CA_CERTS,
          // A global-only option: Renovate refuses internal addresses unless told.
          RENOVATE_HOST_RULES: JSON.stringify([{ matchHost: '127.0.0.1', allowInternal: true }]),
          RENOVATE_BASE_DIR: join(workDir, 'renovate-base'),
          RENOVATE_CACHE_DIR: join(workDir, 'renovate-cache'),
          RENOVATE_REPOSITORY_CACHE: 'disabled',
          RENOVATE_ONBOARDING: 'false',
          RENOVATE_REQUIRE_CONFIG: 'optional',
          // Anything that tries to leave 127.0.0.1 goes to a closed port and fails fast.
          HTTP_PROXY: 'http://127.0.0.1:9',
          HTTPS_PROXY: 'http://127.0.0.1:9',
          NO_PROXY: '127.0.0.1',
          LOG_LEVEL: 'trace',
          LOG_FORMAT: 'json',
        },
      },
    )
    log = out.stdout
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string }
    throw new Error(`renovate failed:\n${failed.stdout?.slice(-20_000)}\n${failed.stderr}`)
  }
  const upgrades: ResolvedUpgrade[] = []
  const commitMessages: string[] = []
  for (const line of log.split('\n')) {
    if (line.includes('"msg":"generateBranchConfig"')) upgrades.push(...(JSON.parse(line).config as ResolvedUpgrade[]))
    else if (line.includes('"msg":"commitMessage: ')) commitMessages.push(JSON.parse(JSON.parse(line).msg.slice(15)))
  }
  return { report: JSON.parse(await readFile(reportPath, 'utf8')) as Report, upgrades, commitMessages }
}

function depsByEnvironment(report: Report): Map<string, ReportDep[]> {
  const files = report.repositories.local?.packageFiles.kustomize ?? []
  const byEnv = new Map<string, ReportDep[]>()
  for (const file of files) {
    const env = /^environments\/([^/]+)\/kustomization\.yaml$/.exec(file.packageFile)?.[1]
    if (env) byEnv.set(env, file.deps)
  }
  return byEnv
}

/** Renovate's warnings and errors about the repo; its optional re2 addon being absent is not one. */
function problems(report: Report): string[] {
  return (report.repositories.local?.problems ?? [])
    .filter((p) => p.level >= 40 && !/RE2/.test(p.msg))
    .map((p) => p.msg)
}

async function compileWithRenovate(template: string, input: Record<string, unknown>): Promise<string> {
  await loadRenovate() // quiets Renovate's logger before its template module loads
  const { compile } = (await import('renovate/dist/util/template/index.js' as string)) as {
    compile: (template: string, input: unknown, filterFields?: boolean) => string
  }
  return compile(template, input)
}

describe('real Renovate against the real registry', () => {
  test('pinned environments: one digest update per environment and component, grouped per environment, auto-merge in dev only', async () => {
    await withTempDir(async (dir) => {
      const repo = join(dir, 'repo')
      const old: Record<string, string> = {}
      for (const name of COMPONENTS) old[name] = await registry.pushImage(`acme/shop/${name}`, 'released')
      await initRepo(repo, true)
      expect(await readFile(join(repo, 'environments/prod/kustomization.yaml'), 'utf8')).toContain(
        `released@${old.api}`,
      )
      const moved: Record<string, string> = {}
      for (const name of COMPONENTS) moved[name] = await registry.pushImage(`acme/shop/${name}`, 'released')

      // A Helm values file beside the kustomization (the helm flavour's shape): the preset's helm-values pattern picks
      // up values-*.yaml under environments/, and its update joins that environment's group.
      await writeFile(
        join(repo, 'environments/stage/values-shop.yaml'),
        `api:\n  image:\n    repository: ${image('api')}\n    tag: released@${old.api}\n`,
      )
      await commitAll(repo, 'Add Helm values for stage')

      const { report, upgrades, commitMessages } = await renovate(repo, dir)
      expect(problems(report)).toEqual([])
      const helm = report.repositories.local?.packageFiles['helm-values'] ?? []
      expect(helm.map((file) => file.packageFile)).toEqual(['environments/stage/values-shop.yaml'])
      expect(helm[0]?.deps[0]?.updates).toEqual([
        expect.objectContaining({
          updateType: 'digest',
          newDigest: moved.api,
          branchName: 'renovate/stage-environment',
        }),
      ])
      const byEnv = depsByEnvironment(report)
      expect([...byEnv.keys()].sort()).toEqual([...ENVIRONMENTS].sort())
      for (const env of ENVIRONMENTS) {
        const deps = byEnv.get(env) ?? []
        expect(deps.map((dep) => dep.depName).sort()).toEqual(COMPONENTS.map(image))
        for (const dep of deps) {
          const component = dep.depName.split('/').pop() ?? ''
          expect(dep.currentDigest).toBe(old[component])
          expect(dep.updates).toEqual([
            expect.objectContaining({
              updateType: 'digest',
              newValue: 'released',
              newDigest: moved[component],
              branchName: `renovate/${env}-environment`,
            }),
          ])
        }
      }

      expect(upgrades).toHaveLength(ENVIRONMENTS.length * COMPONENTS.length + 1)
      for (const upgrade of upgrades) {
        expect(upgrade.groupName).toBe(`${upgrade.parentDir} environment`)
        expect(upgrade.automerge, `${upgrade.parentDir} ${upgrade.depName}`).toBe(upgrade.parentDir === 'dev')
      }
      expect(commitMessages.sort()).toEqual(ENVIRONMENTS.map((env) => `Update ${env} environment`).sort())

      const stage = upgrades.filter((upgrade) => upgrade.parentDir === 'stage' && upgrade.manager === 'kustomize')
      const body = await compileWithRenovate(stage[0]?.commitBody ?? '', { ...stage[0], upgrades: stage })
      for (const name of COMPONENTS) {
        expect(body).toContain(`${name} (${image(name)}) in stage: ${old[name]} -> ${moved[name]}`)
      }
    })
  })

  test('unpinned `newTag: released` with the org preset from `presets build`: Renovate proposes pinning', async () => {
    await withTempDir(async (dir) => {
      const repo = join(dir, 'repo')
      const current: Record<string, string> = {}
      for (const name of COMPONENTS) {
        current[name] =
          (await registry.resolveTag(`acme/shop/${name}`, 'released')) ??
          (await registry.pushImage(`acme/shop/${name}`, 'released'))
      }
      await initRepo(repo, false)
      expect(await readFile(join(repo, 'environments/dev/kustomization.yaml'), 'utf8')).toMatch(/newTag: released\s*$/m)
      const presets = join(dir, 'presets')
      // Auto-merge stage instead of dev, so the report shows these rules, not the inline ones init wrote, are in force.
      const built = await runCli([
        'presets',
        'build',
        '--out',
        presets,
        '--registry-prefix',
        `${registry.host}/acme`,
        '--automerge',
        'stage',
      ])
      expect(built.exitCode, built.stderr).toBe(0)
      await copyFile(join(presets, 'default.json'), join(repo, 'renovate.json'))
      await commitAll(repo, 'Use the org preset')

      const { report, upgrades } = await renovate(repo, dir)
      expect(problems(report)).toEqual([])
      const byEnv = depsByEnvironment(report)
      for (const env of ENVIRONMENTS) {
        expect(byEnv.get(env), env).toHaveLength(COMPONENTS.length)
        for (const dep of byEnv.get(env) ?? []) {
          const component = dep.depName.split('/').pop() ?? ''
          expect(dep.currentDigest).toBeUndefined()
          expect(dep.updates).toEqual([
            expect.objectContaining({
              updateType: 'pinDigest',
              newDigest: current[component],
              branchName: `renovate/${env}-environment`,
            }),
          ])
        }
      }
      expect(upgrades.map((upgrade) => `${upgrade.parentDir}:${upgrade.automerge}`).sort()).toEqual([
        'dev:false',
        'dev:false',
        'prod:false',
        'prod:false',
        'stage:true',
        'stage:true',
      ])
    })
  })

  test('a Helm repo (init --flavour helm): one digest update per environment and component, grouped per environment', async () => {
    await withTempDir(async (dir) => {
      const repo = join(dir, 'repo')
      const old: Record<string, string> = {}
      for (const name of COMPONENTS) old[name] = await registry.pushImage(`acme/shop/${name}`, 'released')
      await initRepo(repo, true, ['--flavour', 'helm'])
      expect(await readFile(join(repo, 'environments/prod/values.yaml'), 'utf8')).toContain(
        `tag: "released@${old.api}"`,
      )
      const moved: Record<string, string> = {}
      for (const name of COMPONENTS) moved[name] = await registry.pushImage(`acme/shop/${name}`, 'released')

      const { report, upgrades } = await renovate(repo, dir)
      expect(problems(report)).toEqual([])
      const files = report.repositories.local?.packageFiles['helm-values'] ?? []
      // The environments' values files only: the chart's own values.yaml holds no image, so nothing there.
      expect(files.map((file) => file.packageFile).sort()).toEqual(
        ENVIRONMENTS.map((env) => `environments/${env}/values.yaml`).sort(),
      )
      expect(report.repositories.local?.packageFiles.kustomize ?? []).toEqual([])
      for (const file of files) {
        const env = file.packageFile.split('/')[1]
        expect(file.deps.map((dep) => dep.depName).sort()).toEqual(COMPONENTS.map(image))
        for (const dep of file.deps) {
          const component = dep.depName.split('/').pop() ?? ''
          expect(dep.currentDigest).toBe(old[component])
          expect(dep.updates).toEqual([
            expect.objectContaining({
              updateType: 'digest',
              newDigest: moved[component],
              branchName: `renovate/${env}-environment`,
            }),
          ])
        }
      }
      expect(upgrades.filter((u) => u.parentDir === 'dev').every((u) => u.automerge)).toBe(true)
      expect(upgrades.filter((u) => u.parentDir !== 'dev').some((u) => u.automerge)).toBe(false)
    })
  })
})
