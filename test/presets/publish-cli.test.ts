import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { sharedGitHubFake } from '../helpers/github.js'

const fake = sharedGitHubFake()

const publish = (args: string[], token = fake().token) =>
  runCli(['presets', 'publish', '--github-api-url', fake().url, ...args], {
    env: { GITHUB_TOKEN: token, GH_TOKEN: undefined, GITHUB_API_URL: undefined },
  })

describe('presets publish', () => {
  test('creates the repository, opens one pull request, then opens nothing when re-run', async () => {
    const first = await publish(['--org', 'acme', '--registry-prefix', 'quay.io/acme', '--json'])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(await schemaErrors('presets publish', first.json)).toEqual([])
    expect(first.json).toMatchObject({
      repository: { owner: 'acme', name: 'renovate-config', created: true },
      base: 'main',
      branch: 'konflux-gitops-presets',
      pullRequest: { number: 1, action: 'created' },
      changed: true,
      references: {
        default: 'github>acme/renovate-config',
        'automerge-dev': 'github>acme/renovate-config:automerge-dev',
      },
    })
    const published = fake().files('acme/renovate-config', 'konflux-gitops-presets') ?? {}
    expect(Object.keys(published).sort()).toEqual([
      'README.md',
      'automerge-dev.json',
      'default.json',
      'digest-pinning.json',
      'group-by-environment.json',
    ])
    expect(JSON.parse(published['default.json'] ?? '{}').packageRules[0].matchPackageNames).toEqual(['quay.io/acme/**'])
    const pull = fake().state.repos.get('acme/renovate-config')?.pulls[0]
    expect(pull?.body).toContain('"github>acme/renovate-config"')

    const writes = fake().writes().length
    const again = await publish(['--org', 'acme', '--registry-prefix', 'quay.io/acme'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toContain('Nothing to publish')
    expect(again.stdout).toContain('github>acme/renovate-config')
    expect(fake().writes().length).toBe(writes)

    const changed = await publish([
      '--org',
      'acme',
      '--registry-prefix',
      'quay.io/acme',
      '--automerge',
      'dev,qa',
      '--json',
    ])
    expect(changed.json).toMatchObject({ changed: true, pullRequest: { number: 1 } })
    expect(fake().state.repos.get('acme/renovate-config')?.pulls).toHaveLength(1)
    expect(fake().files('acme/renovate-config', 'konflux-gitops-presets')?.['automerge-dev.json']).toContain(
      'environments/qa/**',
    )
  })

  test('--dry-run reads only', async () => {
    const writes = fake().writes().length
    const run = await publish(['--org', 'acme', '--repo', 'presets-dry', '--dry-run', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(await schemaErrors('presets publish', run.json)).toEqual([])
    expect(run.json).toMatchObject({ dryRun: true, changed: true, repository: { created: true }, commit: null })
    expect(fake().writes().length).toBe(writes)
    expect(fake().state.repos.has('acme/presets-dry')).toBe(false)
  })

  test('--from publishes built files; a file edited into invalid config publishes nothing', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'built')
      await mkdir(out)
      expect((await runCli(['presets', 'build', '--out', out, '--registry-prefix', 'quay.io/acme'])).exitCode).toBe(0)
      const file = join(out, 'automerge-dev.json')
      const edited = JSON.parse(await readFile(file, 'utf8'))
      edited.packageRules[0].automergeType = 'rocket'
      edited.prHourlyLimit = 'often'
      await writeFile(file, JSON.stringify(edited, null, 2))

      const writes = fake().writes().length
      const requests = fake().state.requests.length
      const run = await publish(['--org', 'acme', '--repo', 'from-dir', '--from', out])
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toContain('automerge-dev.json: packageRules[0].automergeType')
      expect(run.stderr).toContain('prHourlyLimit')
      expect(run.stderr).toContain('nothing was written or published')
      expect(fake().state.requests.length).toBe(requests)
      expect(fake().writes().length).toBe(writes)

      await writeFile(file, '{ "packageRules": [')
      const broken = await publish(['--org', 'acme', '--repo', 'from-dir', '--from', out])
      expect(broken.exitCode).toBe(2)
      expect(broken.stderr).toContain(`${file}: not valid JSON`)
    })
  })

  test('an organisation that does not exist: exit 1, named, nothing created', async () => {
    const run = await publish(['--org', 'no-such-org', '--json'])
    expect(run.exitCode).toBe(1)
    expect(await schemaErrors('error', run.json)).toEqual([])
    expect(run.json).toMatchObject({
      error: { code: 'github-not-found', message: expect.stringContaining('"no-such-org"') },
    })
  })

  test('a token without the repo scope: exit 1 with the scope named, nothing half-published, token never printed', async () => {
    fake().addRepo('acme/locked')
    const reader = fake().addUser('reader', { scopes: ['read:org'], orgs: ['acme'] })
    const run = await publish(['--org', 'acme', '--repo', 'locked'], reader.token)
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('403')
    expect(run.stderr).toContain('"repo" scope')
    expect(`${run.stdout}${run.stderr}`).not.toContain(reader.token)
    const repo = fake().state.repos.get('acme/locked')
    expect([...(repo?.refs.keys() ?? [])]).toEqual(['refs/heads/main'])
    expect(repo?.pulls).toEqual([])
  })

  test('a bad token: exit 1, hint names GITHUB_TOKEN, token never printed', async () => {
    const run = await publish(['--org', 'acme', '--json'], 'ghp_wrong_secret_value')
    expect(run.exitCode).toBe(1)
    expect(run.json).toMatchObject({
      error: { code: 'github-unauthorized', hint: expect.stringContaining('GITHUB_TOKEN') },
    })
    expect(run.stdout + run.stderr).not.toContain('ghp_wrong_secret_value')
  })

  test('a server error mid-way leaves no pull request; the re-run completes', async () => {
    fake().failNext({ method: 'POST', path: /\/repos\/acme\/flaky\/pulls$/, status: 422, message: 'Validation Failed' })
    fake().addRepo('acme/flaky')
    const run = await publish(['--org', 'acme', '--repo', 'flaky'])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain('422')
    expect(fake().state.repos.get('acme/flaky')?.pulls).toEqual([])
    const retry = await publish(['--org', 'acme', '--repo', 'flaky', '--json'])
    expect(retry.exitCode, retry.stderr).toBe(0)
    expect(retry.json).toMatchObject({ pullRequest: { number: 1, action: 'created' } })
  })
})
