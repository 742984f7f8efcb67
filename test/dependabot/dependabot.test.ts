import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'
import { buildEnvironment, type Loose, read } from '../init/repo-checks.js'
import { dependabotSees } from './dependabot-model.js'

const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const API = 'quay.io/redhat-user-workloads/acme-tenant/shop/api'
const WEB = 'quay.io/redhat-user-workloads/acme-tenant/shop/web'
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'
const ENVS = ['dev', 'stage', 'prod']

async function init(tmp: string, name: string, extra: string[]) {
  const result = await runCli(['init', name, '--from-snapshot', SNAPSHOT, '--pin', ...extra, '--json'], { cwd: tmp })
  expect(result.exitCode, result.stderr + result.stdout).toBe(0)
  return join(tmp, name)
}

function workflowErrors(name: string, content: string): string[] {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  return parsed.context.errors.getErrors().map((e) => e.message)
}

async function schemaCheck(text: string): Promise<string[]> {
  const schema = JSON.parse(await readFile(join(ROOT, 'schemas', 'dependabot-config.json'), 'utf8'))
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)
  return validate(parse(text)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

function visible(seen: { file: string; image: string }[], env: string, repository: string): string[] {
  return seen
    .filter((s) => s.file.startsWith(`environments/${env}/`) && s.image.startsWith(`${repository}:`))
    .map((s) => s.image)
}

describe.each([
  { flavour: 'kustomize', pinDir: (env: string) => `environments/${env}/images` },
  { flavour: 'helm', pinDir: (env: string) => `environments/${env}` },
])('init --updater dependabot --flavour $flavour', ({ flavour, pinDir }) => {
  it('writes a dependabot.yml and workflows GitHub accepts, and every pin is visible to Dependabot', async () => {
    await withTempDir(async (tmp) => {
      const repo = await init(tmp, 'demo', ['--updater', 'dependabot', '--flavour', flavour])
      const config = await read(repo, '.github/dependabot.yml')
      expect(await schemaCheck(config)).toEqual([])
      const parsed = parse(config) as Loose
      expect(parsed.updates.map((u: Loose) => u.directory)).toEqual(ENVS.map((env) => `/${pinDir(env)}`))
      expect(parsed.updates.map((u: Loose) => Object.keys(u.groups))).toEqual(ENVS.map((env) => [`${env}-images`]))
      expect(Object.values(parsed.registries)).toEqual([
        expect.objectContaining({ type: 'docker-registry', url: 'https://quay.io' }),
      ])
      // The README names the secrets the registries entry reads.
      expect(await read(repo, 'README.md')).toContain('REGISTRY_QUAY_IO_PASSWORD')

      for (const file of ['.github/workflows/dependabot-auto-merge.yaml', '.github/workflows/validate.yaml']) {
        expect(workflowErrors(file, await read(repo, file)), file).toEqual([])
      }
      const automerge = await read(repo, '.github/workflows/dependabot-auto-merge.yaml')
      expect(automerge).toContain(`fromJSON('["dev-images"]')`)
      expect(automerge).not.toContain('prod-images')
      await expect(readFile(join(repo, 'renovate.json'), 'utf8')).rejects.toThrow()

      const seen = await dependabotSees(repo)
      for (const env of ENVS) {
        expect(visible(seen, env, API), `api in ${env}`).toEqual([`${API}:released@${API_DIGEST}`])
        expect(visible(seen, env, WEB), `web in ${env}`).toHaveLength(1)
      }
      const validate = await runCli(['validate', repo])
      expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0)
    })
  })
})

describe('Dependabot visibility: what it would not see', () => {
  it('a quoted image: in a patch is invisible, and validate says so with the fix', async () => {
    await withTempDir(async (tmp) => {
      const repo = await init(tmp, 'demo', ['--updater', 'dependabot'])
      // The overlay still builds the pinned image from the patch.
      const { stream } = await buildEnvironment(repo, 'dev')
      expect(stream).toContain(`image: ${API}:released@${API_DIGEST}`)
      const file = 'environments/stage/images/api.yaml'
      const text = await read(repo, file)
      await writeFile(join(repo, file), text.replace(/^(\s+)image: (\S+)$/m, '$1image: "$2"'))
      expect(visible(await dependabotSees(repo), 'stage', API)).toEqual([])
      const validate = await runCli(['validate', repo, '--json'])
      expect(validate.exitCode).toBe(1)
      const findings = (validate.json as Loose).findings.filter((f: Loose) => f.rule === 'dependabot-pin-invisible')
      expect(findings).toEqual([
        expect.objectContaining({ file, severity: 'error', message: expect.stringContaining('write it unquoted') }),
      ])
    })
  })

  it('kustomize images: entries (the Renovate shape) are invisible to Dependabot', async () => {
    await withTempDir(async (tmp) => {
      const repo = await init(tmp, 'demo', [])
      await writeFile(
        join(repo, '.github', 'dependabot.yml'),
        'version: 2\nupdates:\n  - package-ecosystem: docker\n    directory: /environments/dev\n    schedule: {interval: daily}\n',
      )
      expect(visible(await dependabotSees(repo), 'dev', API)).toEqual([])
    })
  })

  it('a directory missing from dependabot.yml is reported by validate, naming the directory to add', async () => {
    await withTempDir(async (tmp) => {
      const repo = await init(tmp, 'demo', ['--updater', 'dependabot', '--flavour', 'helm'])
      const config = await read(repo, '.github/dependabot.yml')
      const parsed = parse(config) as Loose
      parsed.updates = parsed.updates.filter((u: Loose) => u.directory !== '/environments/prod')
      const { stringify } = await import('yaml')
      await writeFile(join(repo, '.github', 'dependabot.yml'), stringify(parsed))
      expect(visible(await dependabotSees(repo), 'prod', API)).toEqual([])
      const validate = await runCli(['validate', repo, '--json'])
      expect(validate.exitCode).toBe(1)
      const messages = (validate.json as Loose).findings
        .filter((f: Loose) => f.rule === 'dependabot-pin-invisible')
        .map((f: Loose) => f.message)
      expect(messages).toEqual([expect.stringContaining('directory: /environments/prod')])
    })
  })

  it('switching a kustomize repo to Dependabot is refused with the way to migrate; nothing is written', async () => {
    await withTempDir(async (tmp) => {
      const repo = await init(tmp, 'demo', [])
      const before = await read(repo, 'environments/dev/kustomization.yaml')
      const result = await runCli(['init', 'demo', '--updater', 'dependabot'], { cwd: tmp })
      expect(result.exitCode).toBe(2)
      expect(result.stderr).toContain('will not switch it to flavour kustomize, updater dependabot')
      expect(result.stderr).toContain('Hint:')
      expect(await read(repo, 'environments/dev/kustomization.yaml')).toBe(before)
    })
  })
})
