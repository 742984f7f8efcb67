import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { expectExit, ROOT, runCli } from '../helpers/cli.js'
import { installPacked, type PackedInstall } from '../helpers/packed.js'

const IMAGE = 'quay.io/konflux-gitops/konflux-gitops'
const WORKFLOW = '.github/workflows/validate.yaml'
const PIPELINE = 'integration/pipelines/deploy-and-test.yaml'

/** Third-party actions at the majors that run on GitHub's node24 runtime. */
const CURRENT_MAJORS: Record<string, string> = {
  'actions/checkout': 'v6',
  'actions/setup-node': 'v6',
  'actions/cache': 'v5',
}

function usesOf(workflow: string): string[] {
  return [...workflow.matchAll(/^\s*-?\s*uses:\s*(\S+)/gm)].map((m) => m[1]!)
}

function expectCurrentMajors(uses: string[]): void {
  expect(uses.length).toBeGreaterThan(0)
  for (const use of uses) {
    const [action, ref] = use.split('@') as [string, string]
    expect({ action, ref }).toEqual({ action, ref: CURRENT_MAJORS[action] })
  }
}

/**
 * Every file konflux-gitops writes names the exact version that wrote it, and an upgrade moves it: the packed
 * package is installed with its version set to 0.0.9, writes a repo, is "upgraded" to 0.2.0 and runs init again.
 */
describe('generated files pin the konflux-gitops version that wrote them', () => {
  let dir: string
  let installed: PackedInstall
  const setVersion = async (version: string) => {
    const file = join(installed.packageDir, 'package.json')
    const pkg = JSON.parse(await readFile(file, 'utf8'))
    await writeFile(file, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`)
  }
  const cli = (args: string[]) => runCli(args, { cwd: dir, bin: installed.bin, env: { HOME: dir } })
  const read = (path: string) => readFile(join(dir, 'demo', path), 'utf8')

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kg-pins-'))
    installed = await installPacked(dir)
    await setVersion('0.0.9')
    const init = ['init', 'demo', '--app', 'shop', '--component', 'api=quay.io/acme/shop/api']
    expectExit(await cli([...init, '--git-remote', 'https://github.com/acme/shop-gitops.git']), 0)
    expectExit(await cli(['integration', 'add', 'demo']), 0)
  }, 120_000)
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('the validate workflow runs konflux-gitops@<version>, caches the install, actions at current majors', async () => {
    const workflow = await read(WORKFLOW)
    const runs = [...workflow.matchAll(/run: (.*)/g)].map((m) => m[1])
    expect(runs).toEqual(['npx --yes konflux-gitops@0.0.9 validate --format github'])
    expectCurrentMajors(usesOf(workflow))
    const steps = (parse(workflow) as { jobs: { validate: { steps: { uses?: string; with?: { key?: string } }[] } } })
      .jobs.validate.steps
    expect(steps.find((s) => s.uses?.startsWith('actions/cache@'))?.with?.key).toContain('konflux-gitops-0.0.9-')
  })

  it('the integration pipeline runs the konflux-gitops image of that version, every image by tag (no latest)', async () => {
    const text = await read(PIPELINE)
    expect(text).not.toMatch(/npx|npm install|:latest/)
    const params = (parse(text) as { spec: { params: { name: string; default?: string }[] } }).spec.params
    const image = (name: string) => params.find((p) => p.name === name)?.default
    expect(image('CLI_IMAGE')).toBe(`${IMAGE}:0.0.9`)
    expect(image('KUBECTL_IMAGE')).toMatch(/^quay\.io\/konflux-ci\/appstudio-utils:[\w.-]+@sha256:[0-9a-f]{64}$/)
  })

  it('re-running init after an upgrade moves every pin to the new version', async () => {
    await setVersion('0.2.0')
    expectExit(await cli(['init', 'demo']), 0)
    expect(await read(WORKFLOW)).toContain('npx --yes konflux-gitops@0.2.0 validate')
    expect(await read(WORKFLOW)).not.toContain('0.0.9')
    expect(await read(PIPELINE)).toContain(`default: "${IMAGE}:0.2.0"`)
    expect(await read(PIPELINE)).not.toContain('0.0.9')
  })

  it('releaseplan: the tenant pipeline step runs the konflux-gitops image of the running version', async () => {
    const result = await cli(['releaseplan', '--application', 'shop', '--json'])
    expectExit(result, 0)
    const { yaml } = result.json as { yaml: string }
    expect(yaml).not.toMatch(/npx|npm install|node:24/)
    expect(yaml).toContain(`image: ${IMAGE}:0.2.0`)
    expect(yaml).toContain('konflux-gitops release')
    const pinned = await cli([
      'releaseplan',
      '--application',
      'shop',
      '--runner-image',
      `${IMAGE}:0.2.0@sha256:${'a'.repeat(64)}`,
    ])
    expect(pinned.stdout).toContain(`image: ${IMAGE}:0.2.0@sha256:${'a'.repeat(64)}`)
  })
})

describe('action.yml', () => {
  it('defaults to the version of the package it ships with, caches the install, actions at current majors', async () => {
    const text = await readFile(join(ROOT, 'action.yml'), 'utf8')
    const action = parse(text) as { inputs: { version: { default: string } } }
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(action.inputs.version.default).toBe(pkg.version)
    expectCurrentMajors(usesOf(text))
    expect(text).toMatch(/key: konflux-gitops-\$\{\{ inputs\.version \}\}/)
  })
})
