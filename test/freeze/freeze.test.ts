import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { schemaErrors, withTempDir } from '../helpers/cli.js'
import { cli, digest, expectExit, git, IDENTITY, initRepo, release } from '../rollback/repo-fixture.js'

const FILES = ['konflux-gitops.yaml', 'renovate.json', 'README.md', '.konflux-gitops/generated.json']
const PROD = 'environments/prod/kustomization.yaml'

async function snapshot(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await readFile(join(dir, f), 'utf8')])))
}

interface FreezeJson {
  action: string
  frozen: { by: string; at: string; reason?: string } | null
  previous: unknown
  files: string[]
  commit: string | null
  branch: string | null
}

async function findings(dir: string): Promise<{ exitCode: number; rules: string[] }> {
  const result = await cli(['validate', dir, '--json'])
  return {
    exitCode: result.exitCode,
    // An org preset cannot be fetched offline: that note is the Renovate checks' business, not the freeze's.
    rules: (result.json as { findings: Array<{ rule: string }> }).findings
      .map((f) => f.rule)
      .filter((rule) => rule !== 'renovate-preset-unresolved'),
  }
}

describe('freeze and unfreeze', () => {
  it('record who/when/why in the spec and a Renovate rule; unfreeze restores every file byte for byte', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir)
      const specFile = join(dir, 'konflux-gitops.yaml')
      await writeFile(
        specFile,
        (await readFile(specFile, 'utf8')).replace('  - name: prod', '  # customers live here\n  - name: prod'),
      )
      await git(dir, 'commit', '-q', '-am', 'Comment the spec')
      await release(dir, ['dev', 'stage', 'prod'], { api: digest(11), web: digest(12) }, 'Release 1')
      const before = await snapshot(dir)
      const head = await git(dir, 'rev-parse', 'HEAD')

      const frozen = await cli(['freeze', '--env', 'prod', '--reason', 'incident 42', '--json', dir])
      expectExit(frozen, 0)
      expect(await schemaErrors('freeze', frozen.json)).toEqual([])
      const json = frozen.json as FreezeJson
      expect(json.frozen).toEqual({
        by: `${IDENTITY.name} <${IDENTITY.email}>`,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        reason: 'incident 42',
      })
      expect(json.branch).toBe('main')
      expect(await git(dir, 'rev-parse', 'HEAD~1')).toBe(head)
      expect(json.files.sort()).toEqual([...FILES].sort())
      const spec = await readFile(specFile, 'utf8')
      expect(spec).toContain('  # customers live here\n  - name: prod\n    frozen:\n')
      expect(spec).toContain('      reason: incident 42\n')
      const renovate = JSON.parse(await readFile(join(dir, 'renovate.json'), 'utf8'))
      expect(renovate.packageRules.at(-1)).toEqual({
        description: expect.stringContaining('prod'),
        matchFileNames: [PROD],
        enabled: false,
      })
      expect(await git(dir, 'log', '-1', '--format=%s')).toBe('Freeze prod: incident 42')

      // The rest of the tool sees it: init agrees, validate notes it, status shows it, promote refuses.
      const reinit = await cli(['init', dir, '--json'])
      expect(reinit.json).toMatchObject({ updated: [], created: [], conflicts: [], commit: null })
      expect(await findings(dir)).toEqual({ exitCode: 0, rules: ['environment-frozen'] })
      const status = await cli(['status', dir])
      expect(status.stdout).toContain('prod is frozen by Rita Release <rita@example.com>')
      expect(status.stdout).toContain('incident 42')
      const promote = await cli(['promote', '--from', 'stage', '--to', 'prod', dir])
      expectExit(promote, 1)
      expect(promote.stderr).toContain('environment prod is frozen')

      // Freezing again keeps who and when; a new reason replaces the old one.
      const again = await cli(['freeze', '--env', 'prod', '--json', dir])
      expectExit(again, 0)
      expect((again.json as FreezeJson).files).toEqual([])
      const reason = await cli([
        'freeze',
        '--env',
        'prod',
        '--reason',
        'incident 43',
        '--by',
        'someone else',
        '--json',
        dir,
      ])
      expect((reason.json as FreezeJson).frozen).toEqual({ ...json.frozen, reason: 'incident 43' })

      const thawed = await cli(['unfreeze', '--env', 'prod', '--json', dir])
      expectExit(thawed, 0)
      expect(await schemaErrors('unfreeze', thawed.json)).toEqual([])
      expect(thawed.json).toMatchObject({ action: 'unfreeze', frozen: null, previous: { reason: 'incident 43' } })
      expect(await snapshot(dir)).toEqual(before)
      expect(await findings(dir)).toEqual({ exitCode: 0, rules: [] })
      const twice = await cli(['unfreeze', '--env', 'prod', dir])
      expectExit(twice, 0)
      expect(twice.stdout).toContain('prod is not frozen: nothing to change')
      expect(await git(dir, 'status', '--porcelain')).toBe('')
    })
  })

  it('edits a renovate.json the user changed in place, and validate fails when spec and config disagree', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir, { extra: ['--renovate-preset', 'github>acme/renovate-config'] })
      const path = join(dir, 'renovate.json')
      const userConfig = `{\n    "extends": ["github>acme/renovate-config"],\n    "timezone": "Europe/Prague"\n}\n`
      await writeFile(path, userConfig)
      await git(dir, 'commit', '-q', '-am', 'Our own Renovate settings')

      expectExit(await cli(['freeze', '--env', 'prod', dir]), 0)
      const frozen = JSON.parse(await readFile(path, 'utf8'))
      expect(frozen).toEqual({
        extends: ['github>acme/renovate-config'],
        timezone: 'Europe/Prague',
        packageRules: [expect.objectContaining({ matchFileNames: [PROD], enabled: false })],
      })
      expect(await readFile(path, 'utf8')).toMatch(/^\{\n {4}"extends"/) // the user's indentation is kept

      // Someone deletes the rule by hand: validate says the freeze no longer holds; freeze again repairs it.
      await writeFile(path, userConfig)
      await git(dir, 'commit', '-q', '-am', 'Oops')
      expect(await findings(dir)).toEqual({ exitCode: 1, rules: ['environment-frozen', 'freeze-mismatch'] })
      expectExit(await cli(['freeze', '--env', 'prod', dir]), 0)
      expect(await findings(dir)).toEqual({ exitCode: 0, rules: ['environment-frozen'] })

      expectExit(await cli(['unfreeze', '--env', 'prod', dir]), 0)
      expect(await readFile(path, 'utf8')).toBe(userConfig)

      // A freeze rule left behind for an environment the spec does not freeze is an error too.
      await writeFile(path, JSON.stringify({ ...frozen }, null, 2))
      await git(dir, 'commit', '-q', '-am', 'Stale rule')
      expect(await findings(dir)).toEqual({ exitCode: 1, rules: ['freeze-mismatch'] })
    })
  })

  it("with Dependabot: pauses the environment's update block, and validate catches a block that disagrees", async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir, { extra: ['--updater', 'dependabot'] })
      const path = join(dir, '.github/dependabot.yml')
      const before = await readFile(path, 'utf8')
      expectExit(await cli(['freeze', '--env', 'prod', '--reason', 'incident 7', dir]), 0)
      const frozen = await readFile(path, 'utf8')
      expect(frozen.split('\n').filter((line) => !before.split('\n').includes(line))).toEqual([
        '    open-pull-requests-limit: 0',
      ])
      expect(await findings(dir)).toEqual({ exitCode: 0, rules: ['environment-frozen'] })

      await writeFile(path, before)
      await git(dir, 'commit', '-q', '-am', 'Lift the limit by hand')
      expect(await findings(dir)).toEqual({ exitCode: 1, rules: ['freeze-mismatch', 'environment-frozen'] })
      expectExit(await cli(['freeze', '--env', 'prod', dir]), 0)
      expect(await readFile(path, 'utf8')).toBe(frozen)
      expectExit(await cli(['unfreeze', '--env', 'prod', dir]), 0)
      expect(await readFile(path, 'utf8')).toBe(before)
    })
  })

  it('--dry-run writes nothing; an uncommitted edit to the spec, or an unknown environment, is refused', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir)
      const head = await git(dir, 'rev-parse', 'HEAD')
      const dry = await cli(['freeze', '--env', 'prod', '--dry-run', dir])
      expectExit(dry, 0)
      expect(dry.stdout).toContain('+    frozen:')
      expect(dry.stdout).toContain('+      "enabled": false')
      expect(await git(dir, 'status', '--porcelain')).toBe('')

      const unknown = await cli(['freeze', '--env', 'qa', dir])
      expectExit(unknown, 2)
      expect(unknown.stderr).toContain('environment "qa" is not in konflux-gitops.yaml')

      const spec = join(dir, 'konflux-gitops.yaml')
      await writeFile(spec, `${await readFile(spec, 'utf8')}# local note\n`)
      const dirty = await cli(['freeze', '--env', 'prod', dir])
      expectExit(dirty, 1)
      expect(dirty.stderr).toContain('konflux-gitops.yaml has uncommitted changes')
      expect(await git(dir, 'rev-parse', 'HEAD')).toBe(head)
      // An unrelated local file does not stand in the way.
      await git(dir, 'checkout', '--', 'konflux-gitops.yaml')
      await writeFile(join(dir, 'notes.txt'), 'on call\n')
      expectExit(await cli(['freeze', '--env', 'prod', dir]), 0)
      expect(await git(dir, 'status', '--porcelain')).toBe('?? notes.txt')
    })
  })
})
