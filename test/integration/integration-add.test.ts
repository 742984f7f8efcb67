import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Ajv } from 'ajv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { expectExit, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { SHOP_INIT_ARGS } from '../helpers/spec.js'
import { git } from '../render/gitops-fixture.js'
import itsSchema from './schemas/integration-test-scenario-v1beta2.json' with { type: 'json' }
import pipelineSchema from './schemas/tekton-pipeline-v1.json' with { type: 'json' }

const run = promisify(execFile)
const PIPELINE = 'integration/pipelines/deploy-and-test.yaml'
const SCENARIO = 'integration/integration-test-scenario.yaml'
const REPO_URL = 'https://github.com/acme/shop-gitops.git'

const ajv = new Ajv({ allErrors: true, strict: false })
const validateScenario = ajv.compile(itsSchema)
const validatePipeline = ajv.compile(pipelineSchema)
const errorsOf = (validate: ReturnType<Ajv['compile']>, document: unknown) =>
  validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)

interface Step {
  name: string
  script?: string
}
interface PipelineTask {
  name: string
  params?: Array<{ name: string; value: string }>
  taskSpec?: { params?: Array<{ name: string }>; steps: Step[] }
}
interface Pipeline {
  metadata: { name: string }
  spec: { params: Array<{ name: string; default?: string }>; tasks: PipelineTask[] }
}
interface Scenario {
  metadata: { name: string }
  spec: {
    application: string
    resolverRef: { resolver: string; params: Array<{ name: string; value: string }> }
    params: Array<{ name: string; value: string }>
  }
}

let repo: string
let scratch: string

/** A repo as `init` writes it, with origin set (Konflux clones it from there). */
async function initRepo(dir: string, extra: string[] = []): Promise<void> {
  const init = await runCli(['init', dir, ...SHOP_INIT_ARGS, '--git-remote', REPO_URL, ...extra])
  expectExit(init, 0)
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kg-integration-'))
  repo = join(scratch, 'repo')
  await initRepo(repo)
  const result = await runCli(['integration', 'add', repo, '--json'])
  expectExit(result, 0)
  expect(await schemaErrors('integration add', result.json)).toEqual([])
  expect(result.json).toMatchObject({
    created: [SCENARIO, PIPELINE],
    updated: expect.arrayContaining(['konflux-gitops.yaml']),
    conflicts: [],
  })
  expect((result.json as { commit: string | null }).commit).toMatch(/^[0-9a-f]{40}$/)
  expect(await readFile(join(repo, 'konflux-gitops.yaml'), 'utf8')).toContain('integrationTest: {}')
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

const readYaml = async <T>(path: string) => parse(await readFile(join(repo, path), 'utf8')) as T

describe('integration add: the generated files', () => {
  it('writes an IntegrationTestScenario with the v1beta2 fields, resolving the pipeline from this repo by git', async () => {
    const scenario = await readYaml<Scenario>(SCENARIO)
    expect(errorsOf(validateScenario, scenario)).toEqual([])
    expect(scenario.spec.application).toBe('shop')
    expect(scenario.spec.resolverRef.resolver).toBe('git')
    expect(Object.fromEntries(scenario.spec.resolverRef.params.map((p) => [p.name, p.value]))).toEqual({
      url: REPO_URL,
      revision: 'main',
      pathInRepo: PIPELINE,
    })
  })

  it('writes a Tekton Pipeline that matches its structure and passes tekton-lint', async () => {
    const pipeline = await readYaml<Pipeline>(PIPELINE)
    expect(errorsOf(validatePipeline, pipeline)).toEqual([])
    const lintDir = join(scratch, 'lint')
    await run('mkdir', ['-p', lintDir])
    // Off: the provisioner task is fetched by the bundles resolver at run time, so the linter cannot see it;
    // Konflux's own parameter names (SNAPSHOT) are upper case by convention.
    await writeFile(
      join(lintDir, '.tektonlintrc.yaml'),
      'rules:\n  no-missing-resource: off\n  prefer-kebab-case: off\n',
    )
    process.env.TL_CACHE_DIR = join(scratch, 'lint-cache')
    const { Config, Linter } = await import('@ibm/tekton-lint')
    const lint = async (file: string) =>
      (
        await Linter.run(new Config({ _: [file], config: lintDir, format: 'json', quiet: false, 'max-warnings': -1 }))
      ).map((p) => `${p.level} ${p.rule}: ${p.message}`)
    expect(await lint(join(repo, PIPELINE))).toEqual([])
    // The linter does look: a misspelt parameter reference is caught.
    const broken = join(lintDir, 'broken.yaml')
    await writeFile(
      broken,
      (await readFile(join(repo, PIPELINE), 'utf8')).replace('$(params.SNAPSHOT)', '$(params.SNAPSHOTT)'),
    )
    expect(await lint(broken)).toContainEqual(expect.stringContaining("Undefined param 'SNAPSHOTT'"))
  })

  it('gives every step script valid bash syntax (bash -n)', async () => {
    const pipeline = await readYaml<Pipeline>(PIPELINE)
    const scripts = pipeline.spec.tasks.flatMap((task) =>
      (task.taskSpec?.steps ?? []).map((step) => ({ name: `${task.name}/${step.name}`, script: step.script ?? '' })),
    )
    expect(scripts.map((s) => s.name)).toEqual(['deploy/get-kubectl', 'deploy/deploy-snapshot', 'run-tests/test'])
    for (const { name, script } of scripts) {
      const file = join(scratch, `${name.replace('/', '-')}.sh`)
      await writeFile(file, script)
      await expect(run('bash', ['-n', file]), name).resolves.toBeDefined()
    }
  })

  it('wires the scenario to the pipeline: every scenario param exists, every required pipeline param is given', async () => {
    const pipeline = await readYaml<Pipeline>(PIPELINE)
    const scenario = await readYaml<Scenario>(SCENARIO)
    expect(pipeline.metadata.name).toBe(scenario.metadata.name)
    const declared = new Set(pipeline.spec.params.map((p) => p.name))
    for (const param of scenario.spec.params) expect(declared, param.name).toContain(param.name)
    const required = pipeline.spec.params.filter((p) => p.default === undefined).map((p) => p.name)
    // integration-service passes SNAPSHOT itself.
    expect(required).toEqual(['SNAPSHOT'])
    expect(Object.fromEntries(scenario.spec.params.map((p) => [p.name, p.value]))).toEqual({
      GITOPS_REPO_URL: REPO_URL,
      GITOPS_REVISION: 'main',
      ENVIRONMENT: 'stage',
    })
    const deploy = pipeline.spec.tasks.find((task) => task.name === 'deploy')!
    const script = deploy.taskSpec!.steps.find((step) => step.name === 'deploy-snapshot')!.script!
    expect(script).toMatch(/render --snapshot "\$SNAPSHOT" .*--build \| kubectl apply/)
    expect(script).toContain('kubectl rollout status')
  })
})

describe('integration add: re-runs and edits', () => {
  it('changes nothing on a re-run, keeps your tests in the pipeline, and re-renders it when the spec changes', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir, ['--integration-test'])
      const pipelineText = await readFile(join(dir, PIPELINE), 'utf8')
      expect(pipelineText).toContain('default: "stage"')
      const again = await runCli(['integration', 'add', dir, '--json'])
      expectExit(again, 0)
      expect(again.json).toMatchObject({ created: [], updated: [], commit: null })
      // Your tests go into the run-tests task; init and integration add leave them alone.
      const edited = pipelineText.replace('kubectl get deployments,services,pods', 'my-test-suite --against')
      await writeFile(join(dir, PIPELINE), edited)
      await git(dir, 'commit', '-qam', 'my tests')
      const rerun = await runCli(['init', dir])
      expectExit(rerun, 0)
      expect(await readFile(join(dir, PIPELINE), 'utf8')).toBe(edited)
      // A change the pipeline must follow (another environment) conflicts with the edit until --force.
      const conflict = await runCli(['integration', 'add', dir, '--env', 'prod'])
      expectExit(conflict, 1)
      expect(await readFile(join(dir, PIPELINE), 'utf8')).toBe(edited)
      const dry = await runCli(['integration', 'add', dir, '--env', 'prod', '--force', '--dry-run'])
      expectExit(dry, 0)
      expect(dry.stdout).toContain('-              my-test-suite --against')
      expect(await readFile(join(dir, PIPELINE), 'utf8')).toBe(edited)
      const forced = await runCli(['integration', 'add', dir, '--env', 'prod', '--force'])
      expectExit(forced, 0)
      const scenario = parse(await readFile(join(dir, SCENARIO), 'utf8')) as Scenario
      expect(scenario.spec.params.find((p) => p.name === 'ENVIRONMENT')?.value).toBe('prod')
      expect(await readFile(join(dir, PIPELINE), 'utf8')).not.toContain('my-test-suite')
    })
  })

  it('asks for --repo-url when the repo has neither repoURL nor origin, and names an unknown environment', async () => {
    await withTempDir(async (dir) => {
      const init = await runCli(['init', dir, '--app', 'shop', '--component', 'api=quay.io/acme/shop/api'])
      expectExit(init, 0)
      const noUrl = await runCli(['integration', 'add', dir])
      expectExit(noUrl, 2)
      expect(noUrl.stderr).toContain('--repo-url')
      const badEnv = await runCli(['integration', 'add', dir, '--repo-url', REPO_URL, '--env', 'qa'])
      expectExit(badEnv, 2)
      expect(badEnv.stderr).toContain('"qa"')
      expect(await git(dir, 'status', '--porcelain')).toBe('')
    })
  })

  it('init --integration-test with an ssh origin writes the same repository over https (the ITS webhook requires https://)', async () => {
    await withTempDir(async (dir) => {
      const init = await runCli([
        'init',
        dir,
        ...SHOP_INIT_ARGS,
        '--git-remote',
        'git@github.com:acme/shop-gitops.git',
        '--integration-test',
      ])
      expectExit(init, 0)
      const scenario = parse(await readFile(join(dir, SCENARIO), 'utf8')) as Scenario
      expect(errorsOf(validateScenario, scenario)).toEqual([])
      const url = scenario.spec.resolverRef.params.find((p) => p.name === 'url')?.value
      expect(url).toBe('https://github.com/acme/shop-gitops.git')
      // Argo CD keeps reading the remote as given.
      expect(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')).toContain('git@github.com:acme/shop-gitops.git')
      const bad = await runCli(['integration', 'add', dir, '--repo-url', 'http://git.example.com/shop.git'])
      expectExit(bad, 2)
      expect(bad.stderr).toMatch(/is not an https:\/\/ URL[\s\S]*--repo-url https:\/\//)
    })
  })

  it('--component-group writes a scenario for a Konflux ComponentGroup (no application)', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir)
      const result = await runCli(['integration', 'add', dir, '--component-group', 'shop-group'])
      expectExit(result, 0)
      const scenario = parse(await readFile(join(dir, SCENARIO), 'utf8')) as Scenario & {
        spec: { componentGroup?: string; contexts: { name: string }[] }
      }
      expect(errorsOf(validateScenario, scenario)).toEqual([])
      expect(scenario.spec.componentGroup).toBe('shop-group')
      expect(scenario.spec).not.toHaveProperty('application')
      expect(scenario.spec.contexts.map((c) => c.name)).toEqual(['all'])
      expect(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')).toContain('componentGroup: shop-group')
    })
  })
})
