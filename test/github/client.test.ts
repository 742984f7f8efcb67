import { describe, expect, test } from 'vitest'
import { UserError } from '../../src/cli/errors.js'
import { createGitHubClient, proposeFiles } from '../../src/github/index.js'
import { sharedGitHubFake } from '../helpers/github.js'

const fake = sharedGitHubFake()

const client = (token = fake().token) => createGitHubClient({ token, apiUrl: fake().url, env: {} })

async function failure(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    return error as UserError
  }
  throw new Error('expected a failure')
}

describe('ensureRepository', () => {
  test('creates a missing org repository with an initial commit, then finds it', async () => {
    const github = await client()
    const first = await github.ensureRepository('acme', 'renovate-config', { private: false })
    expect(first.created).toBe(true)
    expect(first.repository).toMatchObject({
      owner: 'acme',
      name: 'renovate-config',
      defaultBranch: 'main',
      private: false,
    })
    expect(fake().files('acme/renovate-config')).toHaveProperty(['README.md'])
    const second = await github.ensureRepository('acme', 'renovate-config', { private: false })
    expect(second.created).toBe(false)
    expect(fake().state.violations).toEqual([])
  })

  test('creates under the authenticated user when the owner is that user', async () => {
    const github = await client()
    const { repository, created } = await github.ensureRepository('octocat', 'gitops', { private: true })
    expect(created).toBe(true)
    expect(repository).toMatchObject({ owner: 'octocat', private: true })
    expect(fake().writes().at(-1)).toMatchObject({ method: 'POST', path: '/user/repos' })
  })

  test('an organisation that does not exist is named in the error', async () => {
    const github = await client()
    const error = await failure(github.ensureRepository('no-such-org', 'x', { private: true }))
    expect(error.message).toContain('"no-such-org" does not exist')
    expect(error.exit).toBe(1)
  })
})

describe('errors a user can act on, without the token', () => {
  test('a bad token: 401 with a hint naming GITHUB_TOKEN', async () => {
    const github = await client('ghp_not_a_real_token_123')
    const error = await failure(github.getRepository('acme', 'renovate-config'))
    expect(error.message).toMatch(/401/)
    expect(error.hint).toContain('GITHUB_TOKEN')
    expect(`${error.message} ${error.hint}`).not.toContain('ghp_not_a_real_token_123')
  })

  test('a token without the repo scope: 403 explains the scope', async () => {
    const reader = fake().addUser('reader', { scopes: ['read:org'], orgs: ['acme'] })
    const github = await client(reader.token)
    const error = await failure(github.ensureRepository('acme', 'brand-new', { private: true }))
    expect(error.message).toContain('403')
    expect(error.hint).toContain('"repo" scope')
    expect(fake().state.repos.has('acme/brand-new')).toBe(false)
  })

  test('no token at all is a usage error naming both variables', async () => {
    const error = await failure(createGitHubClient({ apiUrl: fake().url, env: {} }))
    expect(error.exit).toBe(2)
    expect(error.message).toContain('GITHUB_TOKEN and GH_TOKEN')
  })

  test('GH_TOKEN is used when GITHUB_TOKEN is unset', async () => {
    const github = await createGitHubClient({ apiUrl: fake().url, env: { GH_TOKEN: fake().token } })
    expect(await github.authenticatedLogin()).toBe('octocat')
  })
})

describe('proposeFiles', () => {
  const options = (files: Record<string, string>) => ({
    owner: 'acme',
    repo: 'proposals',
    branch: 'konflux-gitops-presets',
    files,
    title: 'Update presets',
    body: 'body',
    commitMessage: 'Update presets',
    createRepository: { private: false },
  })

  test('opens one pull request, then nothing on a re-run, then updates the same one', async () => {
    const github = await client()
    const first = await proposeFiles(github, options({ 'a.json': '{"a":1}\n', 'b.json': '{}\n' }))
    expect(first).toMatchObject({ changed: true, pullRequest: { number: 1, action: 'created' } })
    expect(first.repository.created).toBe(true)
    expect(fake().files('acme/proposals', 'konflux-gitops-presets')).toMatchObject({ 'a.json': '{"a":1}\n' })
    expect(fake().files('acme/proposals', 'main')).not.toHaveProperty(['a.json'])

    const writesBefore = fake().writes().length
    const again = await proposeFiles(github, options({ 'a.json': '{"a":1}\n', 'b.json': '{}\n' }))
    expect(again).toMatchObject({ changed: false, pullRequest: { number: 1, action: 'unchanged' } })
    expect(fake().writes().length).toBe(writesBefore)

    const changed = await proposeFiles(github, options({ 'a.json': '{"a":2}\n', 'b.json': '{}\n' }))
    expect(changed.pullRequest).toMatchObject({ number: 1, action: 'unchanged' })
    expect(changed.changed).toBe(true)
    expect(fake().files('acme/proposals', 'konflux-gitops-presets')?.['a.json']).toBe('{"a":2}\n')
    expect(
      fake()
        .state.repos.get('acme/proposals')
        ?.pulls.filter((p) => p.state === 'open'),
    ).toHaveLength(1)
    expect(fake().state.violations).toEqual([])
  })

  test('dry-run reads only', async () => {
    const github = await client()
    const writesBefore = fake().writes().length
    const result = await proposeFiles(github, { ...options({ 'a.json': 'new\n' }), repo: 'never-made', dryRun: true })
    expect(result).toMatchObject({ dryRun: true, changed: true, repository: { created: true } })
    expect(fake().writes().length).toBe(writesBefore)
    expect(fake().state.repos.has('acme/never-made')).toBe(false)
  })

  test('files the base branch already has open nothing', async () => {
    fake().addRepo('acme/settled', { files: { 'a.json': 'same\n' } })
    const github = await client()
    const result = await proposeFiles(github, { ...options({ 'a.json': 'same\n' }), repo: 'settled' })
    expect(result).toMatchObject({
      changed: false,
      pullRequest: null,
      files: [{ path: 'a.json', status: 'unchanged' }],
    })
  })

  test('an empty repository (no commit) is an error saying what to do', async () => {
    fake().addRepo('acme/empty').refs.clear()
    const github = await client()
    const error = await failure(proposeFiles(github, { ...options({ 'a.json': 'x\n' }), repo: 'empty' }))
    expect(error.code).toBe('empty-repository')
    expect(error.hint).toContain('initial commit')
  })
})

describe('transient failures', () => {
  test('a 502 is retried by the client and the call succeeds', async () => {
    fake().addRepo('acme/wobbly')
    fake().failNext({ method: 'GET', path: '/repos/acme/wobbly', status: 502, message: 'Bad Gateway' })
    const github = await client()
    expect(await github.getRepository('acme', 'wobbly')).toMatchObject({ fullName: 'acme/wobbly' })
    expect(
      fake()
        .state.requests.filter((r) => r.path === '/repos/acme/wobbly')
        .map((r) => r.status),
    ).toEqual([502, 200])
  })
})
