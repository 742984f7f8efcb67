import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startGitHubFake } from '../harness/github-fake.js'
import { expectExit, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { DEFAULT_COMPONENTS, digestOf, envKustomization, git, makeGitOpsRepo } from '../render/gitops-fixture.js'

const STAGE = { api: digestOf('1'), web: digestOf('2') }
const PROD = { api: digestOf('3'), web: digestOf('4') }

describe('promote', () => {
  it('copies stage pins to prod keeping comments, commits on a new branch, and a second run changes nothing', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE, prod: PROD }, git: true })
      const first = await runCli(['promote', '--from', 'stage', '--to', 'prod', '--json', dir])
      expect(first.stderr).toBe('')
      expectExit(first, 0)
      expect(await schemaErrors('promote', first.json)).toEqual([])
      const result = first.json as { branch: string; commit: string; files: string[]; base: string }
      expect(result.files).toEqual(['environments/prod/kustomization.yaml'])
      expect(result.base).toBe('main')
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(result.branch)
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(result.commit)
      // Exactly the expected file: the prod overlay with stage's digests, comments and order kept.
      expect(await readFile(join(dir, 'environments/prod/kustomization.yaml'), 'utf8')).toBe(
        envKustomization('shop', 'prod', DEFAULT_COMPONENTS, STAGE).replace(
          'namespace: shop-stage',
          'namespace: shop-prod',
        ),
      )
      expect(await git(dir, 'show', '--name-only', '--format=', 'HEAD')).toBe('environments/prod/kustomization.yaml')
      const message = await git(dir, 'log', '-1', '--format=%B')
      expect(message).toContain('Promote stage to prod: api, web')
      expect(message).toContain(`- api (quay.io/acme/shop/api:released): ${PROD.api} -> ${STAGE.api}`)
      expect(message).toContain(`- web (quay.io/acme/shop/web:released): ${PROD.web} -> ${STAGE.web}`)
      expect(message).toContain('Promoted-From: stage')

      const second = await runCli(['promote', '--from', 'stage', '--to', 'prod', dir])
      expectExit(second, 0)
      expect(second.stdout).toContain('nothing to promote')
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(result.commit)
      expect(await git(dir, 'status', '--porcelain')).toBe('')
    })
  })

  it('promotes only the named component, and --dry-run shows the diff and writes nothing', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, { envs: { stage: STAGE, prod: PROD }, git: true })
      const head = await git(dir, 'rev-parse', 'HEAD')
      const dry = await runCli(['promote', '--from', 'stage', '--to', 'prod', '--component', 'api', '--dry-run', dir])
      expectExit(dry, 0)
      expect(dry.stdout).toContain(`-    newTag: released@${PROD.api}`)
      expect(dry.stdout).toContain(`+    newTag: released@${STAGE.api}`)
      expect(dry.stdout).not.toContain(`+    newTag: released@${STAGE.web}`)
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(head)
      expect(await git(dir, 'status', '--porcelain')).toBe('')

      const real = await runCli(['promote', '--from', 'stage', '--to', 'prod', '-c', 'api', '--branch', 'promo', dir])
      expectExit(real, 0)
      const prod = await readFile(join(dir, 'environments/prod/kustomization.yaml'), 'utf8')
      expect(prod).toContain(`released@${STAGE.api}`)
      expect(prod).toContain(`released@${PROD.web}`)
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('promo')
    })
  })

  it('refuses an unpinned source, a component missing in an environment, a dirty tree and a frozen target', async () => {
    await withTempDir(async (dir) => {
      await makeGitOpsRepo(dir, {
        envs: { dev: { api: digestOf('5') }, stage: STAGE, prod: PROD },
        envExtra: { prod: { frozen: { by: 'alice', at: '2026-11-20T10:00:00Z', reason: 'bad release' } } },
        git: true,
      })
      const unpinned = await runCli(['promote', '--from', 'dev', '--to', 'stage', dir])
      expectExit(unpinned, 1)
      expect(unpinned.stderr).toContain('component web is not pinned in dev')
      expect(unpinned.stderr).toContain('no known-good digest')

      const frozen = await runCli(['promote', '--from', 'stage', '--to', 'prod', dir])
      expectExit(frozen, 1)
      expect(frozen.stderr).toContain('environment prod is frozen (by alice')
      expect(frozen.stderr).toContain('--force')

      const unknown = await runCli(['promote', '--from', 'stage', '--to', 'dev', '-c', 'worker', dir])
      expectExit(unknown, 2)
      expect(unknown.stderr).toContain('unknown component: worker')

      // web has no image entry in dev: missing in the target.
      await writeFile(
        join(dir, 'environments/dev/kustomization.yaml'),
        envKustomization('shop', 'dev', [DEFAULT_COMPONENTS[0]!], { api: digestOf('5') }),
      )
      await git(dir, 'commit', '-qam', 'dev drops web')
      const missing = await runCli(['promote', '--from', 'stage', '--to', 'dev', dir])
      expectExit(missing, 1)
      expect(missing.stderr).toContain('component web is missing in environment dev')

      // An uncommitted edit to the file the promotion rewrites is refused, naming it; an unrelated file is not.
      const devFile = join(dir, 'environments/dev/kustomization.yaml')
      const devText = await readFile(devFile, 'utf8')
      await writeFile(devFile, `${devText}# wip\n`)
      await writeFile(join(dir, 'notes.txt'), 'wip\n')
      const dirty = await runCli(['promote', '--from', 'stage', '--to', 'dev', '-c', 'api', dir])
      expectExit(dirty, 1)
      expect(dirty.stderr).toContain('environments/dev/kustomization.yaml has uncommitted changes')
      expect(dirty.stderr).not.toContain('notes.txt')
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main')
      await writeFile(devFile, devText)
      const beside = await runCli(['promote', '--from', 'stage', '--to', 'dev', '-c', 'api', dir])
      expectExit(beside, 0)
      expect(await git(dir, 'status', '--porcelain')).toBe('?? notes.txt')
    })
  })

  it('keeps the local commit and says how to push later when the push fails', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'repo')
      await makeGitOpsRepo(dir, { envs: { stage: STAGE, prod: PROD }, git: true })
      await git(dir, 'remote', 'add', 'origin', join(root, 'missing.git'))
      const result = await runCli(['promote', '--from', 'stage', '--to', 'prod', '--push', '--branch', 'promo', dir])
      expectExit(result, 1)
      expect(result.stdout).toContain('push failed')
      expect(result.stdout).toContain('push -u origin promo')
      // --json keeps the commit and says why the push failed.
      await git(dir, 'switch', '-q', 'main')
      await git(dir, 'branch', '-q', '-D', 'promo')
      const json = await runCli([
        'promote',
        '--from',
        'stage',
        '--to',
        'prod',
        '--push',
        '--branch',
        'promo',
        '--json',
        dir,
      ])
      expectExit(json, 1)
      expect(json.json).toMatchObject({
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
        pushed: false,
        branch: 'promo',
      })
      expect((json.json as { pushError: string }).pushError).toContain('push failed')
      expect(await schemaErrors('promote', json.json)).toEqual([])
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('promo')
      expect(await git(dir, 'log', '-1', '--format=%s')).toBe('Promote stage to prod: api, web')
    })
  })

  it('pushes the branch to the remote and opens a pull request on GitHub (local fake)', async () => {
    const github = await startGitHubFake()
    try {
      await withTempDir(async (root) => {
        const dir = join(root, 'repo')
        const remote = join(root, 'remote.git')
        await git(root, 'init', '-q', '--bare', remote)
        await makeGitOpsRepo(dir, { envs: { stage: STAGE, prod: PROD }, git: true })
        await git(dir, 'remote', 'add', 'origin', remote)
        await git(dir, 'push', '-q', 'origin', 'main')
        const prodFile = 'environments/prod/kustomization.yaml'
        const before = await readFile(join(dir, prodFile), 'utf8')
        github.addRepo('acme/shop-gitops', { files: { [prodFile]: before } })
        const args = [
          'promote',
          '--from',
          'stage',
          '--to',
          'prod',
          '--push',
          '--github',
          'acme/shop-gitops',
          '--json',
          dir,
        ]
        const result = await runCli(args, {
          env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, GH_TOKEN: undefined },
        })
        expect(result.stderr).toBe('')
        expectExit(result, 0)
        expect(await schemaErrors('promote', result.json)).toEqual([])
        const json = result.json as {
          branch: string
          commit: string
          pushed: boolean
          pullRequest: { number: number; action: string }
        }
        expect(json.pushed).toBe(true)
        expect(await git(remote, 'rev-parse', `refs/heads/${json.branch}`)).toBe(json.commit)
        expect(json.pullRequest.action).toBe('created')
        const pull = github.state.repos.get('acme/shop-gitops')!.pulls[0]!
        expect(pull).toMatchObject({ head: json.branch, base: 'main', title: 'Promote stage to prod: api, web' })
        expect(pull.body).toContain(`${PROD.api} -> ${STAGE.api}`)
        // The pull request's branch holds exactly the promoted overlay, as committed locally.
        expect(github.files('acme/shop-gitops', json.branch)?.[prodFile]).toBe(
          await readFile(join(dir, prodFile), 'utf8'),
        )
        expect(github.files('acme/shop-gitops', 'main')?.[prodFile]).toBe(before)
        expect(github.state.violations).toEqual([])
      })
    } finally {
      await github.stop()
    }
  })

  it('a pull request GitHub refuses keeps the commit and says why in --json (exit 1)', async () => {
    const github = await startGitHubFake()
    try {
      await withTempDir(async (root) => {
        const dir = join(root, 'repo')
        await makeGitOpsRepo(dir, { envs: { stage: STAGE, prod: PROD }, git: true })
        const prodFile = 'environments/prod/kustomization.yaml'
        github.addRepo('acme/shop-gitops', { files: { [prodFile]: await readFile(join(dir, prodFile), 'utf8') } })
        github.failNext({ method: 'POST', path: '/repos/acme/shop-gitops/pulls', status: 422, times: 10 })
        const result = await runCli(
          ['promote', '--from', 'stage', '--to', 'prod', '--github', 'acme/shop-gitops', '--json', dir],
          {
            env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, GH_TOKEN: undefined },
          },
        )
        expectExit(result, 1)
        expect(await schemaErrors('promote', result.json)).toEqual([])
        const json = result.json as { commit: string; branch: string; pushError: string; pullRequest: unknown }
        expect(json.commit).toMatch(/^[0-9a-f]{40}$/)
        expect(json.pullRequest).toBeNull()
        expect(json.pushError).toContain('pull request not opened')
        expect(await git(dir, 'rev-parse', json.branch)).toBe(json.commit)
      })
    } finally {
      await github.stop()
    }
  })
})
