import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startGitHubFake } from '../harness/github-fake.js'
import { schemaErrors, withTempDir } from '../helpers/cli.js'
import { cli, digest, expectExit, GIT_ENV, git, IDENTITY, initRepo, release } from './repo-fixture.js'

const PROD = 'environments/prod/kustomization.yaml'

interface RollbackJson {
  env: string
  target: { commit: string; subject: string }
  changes: Array<{ component: string; current: string | null; restored: string; from: { commit: string } }>
  frozen: { by: string; at: string; reason?: string } | null
  files: string[]
  branch: string
  base: string
  commit: string
  diff: string | null
}

/** init, then three releases pinned in turn in stage and prod. */
async function threeReleases(dir: string): Promise<string[]> {
  await initRepo(dir)
  const commits: string[] = []
  for (const n of [1, 2, 3]) {
    commits.push(await release(dir, ['stage', 'prod'], { api: digest(`${n}1`), web: digest(`${n}2`) }, `Release ${n}`))
  }
  return commits
}

describe('rollback', () => {
  it('--steps 1 restores the previous digests in one commit on a new branch and freezes prod', async () => {
    await withTempDir(async (dir) => {
      const [, second, third] = await threeReleases(dir)
      if (second === undefined || third === undefined) throw new Error('threeReleases made fewer than three commits')
      // A comment the user wrote in the overlay survives the rollback.
      await writeFile(join(dir, PROD), `# prod: handle with care\n${await readFile(join(dir, PROD), 'utf8')}`)
      await git(dir, 'commit', '-q', '-am', 'Comment prod')
      const prodBefore = await readFile(join(dir, PROD), 'utf8')

      const result = await cli([
        'rollback',
        '--env',
        'prod',
        '--steps',
        '1',
        '--reason',
        'release 3 breaks checkout',
        '--json',
        dir,
      ])
      expectExit(result, 0)
      expect(await schemaErrors('rollback', result.json)).toEqual([])
      const json = result.json as RollbackJson
      expect(json.target.commit).toBe(second)
      expect(json.changes).toEqual([
        expect.objectContaining({
          component: 'api',
          current: digest(31),
          restored: digest(21),
          from: expect.objectContaining({ commit: second }),
        }),
        expect.objectContaining({
          component: 'web',
          current: digest(32),
          restored: digest(22),
          from: expect.objectContaining({ commit: second }),
        }),
      ])
      expect(json.frozen).toEqual({
        by: `${IDENTITY.name} <${IDENTITY.email}>`,
        at: expect.any(String),
        reason: 'release 3 breaks checkout',
      })
      expect(json.base).toBe('main')
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(json.branch)
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(json.commit)
      expect(await git(dir, 'rev-parse', 'HEAD~1')).not.toBe(third) // the comment commit sits between
      expect(await git(dir, 'status', '--porcelain')).toBe('')

      // Exactly the pins changed in the overlay; comment and order kept.
      expect(await readFile(join(dir, PROD), 'utf8')).toBe(
        prodBefore.replaceAll(digest(31), digest(21)).replaceAll(digest(32), digest(22)),
      )
      // One commit holds the pins and the freeze (spec + renovate.json).
      const changed = (await git(dir, 'show', '--name-only', '--format=', 'HEAD')).split('\n').sort()
      expect(changed).toEqual([
        '.konflux-gitops/generated.json',
        'README.md',
        'environments/prod/kustomization.yaml',
        'konflux-gitops.yaml',
        'renovate.json',
      ])
      const spec = await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')
      expect(spec).toContain('reason: release 3 breaks checkout')
      const renovate = JSON.parse(await readFile(join(dir, 'renovate.json'), 'utf8'))
      expect(renovate.packageRules.at(-1)).toEqual({
        description: expect.stringContaining('konflux-gitops freeze'),
        matchFileNames: [PROD],
        enabled: false,
      })
      const message = await git(dir, 'log', '-1', '--format=%B')
      expect(message).toContain(`Roll back prod to ${second.slice(0, 12)}: api, web`)
      expect(message).toContain(
        `- api (quay.io/acme/shop/api:released): ${digest(31)} -> ${digest(21)} (from ${second.slice(0, 12)})`,
      )
      expect(message).toContain(
        `- web (quay.io/acme/shop/web:released): ${digest(32)} -> ${digest(22)} (from ${second.slice(0, 12)})`,
      )
      expect(message).toContain(`Restored-From: ${second}`)

      // The stage overlay is untouched; init agrees with what rollback wrote; validate notes the freeze, no error.
      expect(await readFile(join(dir, 'environments/stage/kustomization.yaml'), 'utf8')).toContain(digest(31))
      const reinit = await cli(['init', dir, '--json'])
      expectExit(reinit, 0)
      expect(reinit.json).toMatchObject({ created: [], updated: [], deleted: [], conflicts: [], commit: null })
      const validate = await cli(['validate', dir, '--json'])
      expectExit(validate, 0)
      expect((validate.json as { findings: Array<{ rule: string }> }).findings.map((f) => f.rule)).toEqual([
        'environment-frozen',
      ])

      // History sees the rollback as one, naming where it went back to.
      const history = await cli(['history', '--env', 'prod', '--component', 'api', '--json', dir])
      const changes = (history.json as { changes: Array<{ source: unknown; digest: string }> }).changes
      expect(changes[0]).toMatchObject({ digest: digest(21), source: { kind: 'rollback', restoredFrom: second } })
    })
  })

  it('--to REF with --component restores one component, and --no-freeze leaves the spec alone', async () => {
    await withTempDir(async (dir) => {
      const [first] = await threeReleases(dir)
      const result = await cli([
        'rollback',
        '--env',
        'prod',
        '--to',
        first!,
        '--component',
        'api',
        '--no-freeze',
        '--branch',
        'back-to-one',
        '--json',
        dir,
      ])
      expectExit(result, 0)
      const json = result.json as RollbackJson
      expect(json.branch).toBe('back-to-one')
      expect(json.frozen).toBeNull()
      expect(json.changes.map((c) => [c.component, c.restored])).toEqual([['api', digest(11)]])
      expect(json.files).toEqual([PROD])
      const prod = await readFile(join(dir, PROD), 'utf8')
      expect(prod).toContain(`released@${digest(11)}`)
      expect(prod).toContain(`released@${digest(32)}`)
    })
  })

  it('--dry-run shows the diff and changes nothing', async () => {
    await withTempDir(async (dir) => {
      await threeReleases(dir)
      const head = await git(dir, 'rev-parse', 'HEAD')
      const result = await cli(['rollback', '--env', 'prod', '--dry-run', dir])
      expectExit(result, 0)
      expect(result.stdout).toContain(`-    newTag: released@${digest(31)}`)
      expect(result.stdout).toContain(`+    newTag: released@${digest(21)}`)
      expect(result.stdout).toContain('+    frozen:')
      expect(result.stdout).toContain('dry run: nothing written')
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(head)
      expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main')
      expect(await git(dir, 'status', '--porcelain')).toBe('')
    })
  })

  it('refuses a dirty tree, an unknown component, and nothing to roll back to', async () => {
    await withTempDir(async (dir) => {
      await threeReleases(dir)
      const head = await git(dir, 'rev-parse', 'HEAD')

      const unknown = await cli(['rollback', '--env', 'prod', '--component', 'cart', dir])
      expectExit(unknown, 2)
      expect(unknown.stderr).toContain('unknown component: cart')

      const tooFar = await cli(['rollback', '--env', 'prod', '--steps', '9', '--json', dir])
      expectExit(tooFar, 1)
      expect(tooFar.json).toMatchObject({ error: { code: 'nothing-to-roll-back' } })
      expect((tooFar.json as { error: { message: string } }).error.message).toContain('prod has 4 pin changes')

      // The first pins init wrote were no digests at all: nothing known-good there.
      const unpinned = await cli(['rollback', '--env', 'prod', '--steps', '3', dir])
      expectExit(unpinned, 1)
      expect(unpinned.stderr).toContain('nothing to roll back to')

      const unknownEnv = await cli(['rollback', '--env', 'qa', dir])
      expectExit(unknownEnv, 2)

      // An uncommitted edit to a file the rollback rewrites is refused, naming it; an unrelated file is not.
      await writeFile(join(dir, 'notes.txt'), 'scratch\n')
      const specFile = join(dir, 'konflux-gitops.yaml')
      const specText = await readFile(specFile, 'utf8')
      await writeFile(specFile, `${specText}# local note\n`)
      const dirty = await cli(['rollback', '--env', 'prod', dir])
      expectExit(dirty, 1)
      expect(dirty.stderr).toContain('konflux-gitops.yaml has uncommitted changes')
      expect(dirty.stderr).not.toContain('notes.txt')
      await writeFile(specFile, specText)
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(head)
      expect(await git(dir, 'branch', '--list')).toBe('* main')
    })
  })

  it('--push pushes the branch and --github opens a pull request on the (fake) GitHub', async () => {
    const github = await startGitHubFake()
    try {
      await withTempDir(async (root) => {
        const dir = join(root, 'repo')
        const remote = join(root, 'remote.git')
        await git(root, 'init', '-q', '--bare', remote)
        await threeReleases(dir)
        await git(dir, 'remote', 'add', 'origin', remote)
        await git(dir, 'push', '-q', 'origin', 'main')
        const files: Record<string, string> = {}
        for (const path of [
          PROD,
          'konflux-gitops.yaml',
          'renovate.json',
          'README.md',
          '.konflux-gitops/generated.json',
        ]) {
          files[path] = await readFile(join(dir, path), 'utf8')
        }
        github.addRepo('acme/shop-gitops', { files })
        const result = await cli(
          ['rollback', '--env', 'prod', '--push', '--github', 'acme/shop-gitops', '--json', dir],
          {
            GITHUB_TOKEN: github.token,
            GITHUB_API_URL: github.url,
            GH_TOKEN: undefined,
            ...GIT_ENV,
          },
        )
        expectExit(result, 0)
        expect(await schemaErrors('rollback', result.json)).toEqual([])
        const json = result.json as RollbackJson & { pushed: boolean; pullRequest: { number: number; action: string } }
        expect(json.pushed).toBe(true)
        expect(await git(remote, 'rev-parse', json.branch)).toBe(json.commit)
        expect(json.pullRequest).toMatchObject({ action: 'created' })
        const pull = github.state.repos.get('acme/shop-gitops')?.pulls.find((p) => p.number === json.pullRequest.number)
        expect(pull?.title).toContain('Roll back prod to')
        expect(pull?.head).toBe(json.branch)
      })
    } finally {
      await github.stop()
    }
  })
})
