import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pinChangesOf, sourceOf } from '../../src/history/index.js'
import { schemaErrors, withTempDir } from '../helpers/cli.js'
import { cli, digest, expectExit, git, IMAGE, initRepo, release } from '../rollback/repo-fixture.js'

interface Change {
  env: string
  component: string
  commit: string
  parent: string | null
  previous: string | null
  digest: string | null
  subject: string
  author: { name: string; email: string }
  source: unknown
}

describe('history', () => {
  it('lists each pin change per environment and component, newest first, with its source', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir)
      const one = await release(dir, ['stage', 'prod'], { api: digest(11), web: digest(12) }, 'Release 1')
      const two = await release(dir, ['stage'], { api: digest(21) }, 'Release 2\n\nSnapshot: shop-20261124-abc12')
      // A commit that touches the overlay without moving a pin is not a pin change.
      const prod = join(dir, 'environments/prod/kustomization.yaml')
      await writeFile(
        prod,
        (await readFile(prod, 'utf8')).replace('namespace: shop-prod', 'namespace: shop-production'),
      )
      await git(dir, 'commit', '-q', '-am', 'Rename prod namespace')
      const promoted = await cli(['promote', '--from', 'stage', '--to', 'prod', '--component', 'api', '--json', dir])
      expectExit(promoted, 0)
      const three = (promoted.json as { commit: string }).commit

      const result = await cli(['history', '--json', dir])
      expectExit(result, 0)
      expect(await schemaErrors('history', result.json)).toEqual([])
      const changes = (result.json as { changes: Change[] }).changes
      const summary = changes.map((c) => [c.commit, c.env, c.component, c.previous, c.digest])
      const init = await git(dir, 'rev-list', '--max-parents=0', 'HEAD')
      expect(summary).toEqual([
        [three, 'prod', 'api', digest(11), digest(21)],
        [two, 'stage', 'api', digest(11), digest(21)],
        [one, 'stage', 'api', null, digest(11)],
        [one, 'stage', 'web', null, digest(12)],
        [one, 'prod', 'api', null, digest(11)],
        [one, 'prod', 'web', null, digest(12)],
        ...['dev', 'stage', 'prod'].flatMap((env) => [
          [init, env, 'api', null, null],
          [init, env, 'web', null, null],
        ]),
      ])
      expect(changes[0]).toMatchObject({
        source: { kind: 'promotion', from: 'stage' },
        parent: await git(dir, 'rev-parse', `${three}~1`),
      })
      expect(changes[1]).toMatchObject({
        source: { kind: 'snapshot', name: 'shop-20261124-abc12' },
        subject: 'Release 2',
        author: { name: 'Rita Release', email: 'rita@example.com' },
      })

      const api = await cli(['history', '--env', 'prod', '--component', 'api', dir])
      expectExit(api, 0)
      const lines = api.stdout.trim().split('\n')
      expect(lines[0]).toMatch(/^DATE\s+ENV\s+COMPONENT\s+DIGEST\s+COMMIT\s+AUTHOR\s+SOURCE$/)
      expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(1, 5))).toEqual([
        ['prod', 'api', `${digest(11).slice(7, 19)} -> ${digest(21).slice(7, 19)}`, three.slice(0, 12)],
        ['prod', 'api', `unpinned -> ${digest(11).slice(7, 19)}`, one.slice(0, 12)],
        ['prod', 'api', 'added (unpinned)', init.slice(0, 12)],
      ])
      expect(lines[1]).toContain('promoted from stage')

      // --ref reads another branch's line without switching to it.
      const main = await cli(['history', '--env', 'prod', '--ref', 'main', '--json', dir])
      expect((main.json as { changes: Change[] }).changes.map((c) => c.commit)).not.toContain(three)
    })
  })

  it('refuses an unknown environment, component or ref', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir)
      const env = await cli(['history', '--env', 'qa', dir])
      expectExit(env, 2)
      expect(env.stderr).toContain('environment "qa" is not in konflux-gitops.yaml')
      const component = await cli(['history', '--component', 'cart', dir])
      expectExit(component, 2)
      const ref = await cli(['history', '--ref', 'no-such-branch', '--json', dir])
      expectExit(ref, 2)
      expect(ref.json).toMatchObject({ error: { code: 'unknown-ref' } })
      // The hint names the command's own flag, not rollback's --steps.
      expect((ref.json as { error: { hint: string } }).error.hint).toContain('--ref')
      expect((ref.json as { error: { hint: string } }).error.hint).not.toContain('--steps')
    })
  })
})

describe('pin changes of one commit (pure)', () => {
  const pin = (component: string, tag: string, d?: string) => ({
    component,
    repository: IMAGE[component as 'api'],
    file: 'environments/prod/kustomization.yaml',
    tag,
    digest: d,
  })
  const commit = {
    commit: 'c'.repeat(40),
    parent: 'p'.repeat(40),
    date: '2026-11-24T10:00:00Z',
    author: { name: 'renovate[bot]', email: 'bot@renovateapp.com' },
    message: 'Update prod environment',
  }

  it('reports only components whose tag@digest moved, and names the updater bot', () => {
    const changes = pinChangesOf('prod', {
      ...commit,
      before: [pin('api', 'released', digest(1)), pin('web', 'released', digest(2))],
      after: [pin('api', 'released', digest(3)), pin('web', 'released', digest(2))],
    })
    expect(changes).toEqual([
      expect.objectContaining({
        component: 'api',
        previous: digest(1),
        digest: digest(3),
        source: { kind: 'updater', name: 'renovate' },
      }),
    ])
  })

  it('sees a removed pin and filters by component', () => {
    const input = {
      ...commit,
      before: [pin('api', 'released', digest(1)), pin('web', 'released', digest(2))],
      after: [pin('api', 'released', digest(1))],
    }
    expect(pinChangesOf('prod', input).map((c) => [c.component, c.change, c.previous, c.digest])).toEqual([
      ['web', 'removed', digest(2), null],
    ])
    expect(pinChangesOf('prod', input, new Set(['api']))).toEqual([])
  })

  it('reads promotion, rollback and Snapshot trailers before the author', () => {
    const bot = { name: 'renovate[bot]', email: 'x' }
    expect(sourceOf('Promote stage to prod: api\n\nPromoted-From: stage\nPromoted-To: prod', bot)).toEqual({
      kind: 'promotion',
      from: 'stage',
    })
    expect(sourceOf(`Roll back prod\n\nRollback-Environment: prod\nRestored-From: ${'a'.repeat(40)}`, bot)).toEqual({
      kind: 'rollback',
      restoredFrom: 'a'.repeat(40),
    })
    expect(sourceOf('Deploy\n\nKonflux-Snapshot: shop-x1', bot)).toEqual({ kind: 'snapshot', name: 'shop-x1' })
    expect(sourceOf('Hand edit', { name: 'Ann', email: 'ann@example.com' })).toBeNull()
  })
})
