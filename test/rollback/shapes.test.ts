/**
 * rollback, freeze/unfreeze and history on every repo shape init writes: kustomize or Helm, kept by Renovate or
 * Dependabot. Pins are written through the pin seam (src/pins), as the updater's merged pull requests would.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pinStoreFor } from '../../src/pins/index.js'
import { parseSpec } from '../../src/spec/index.js'
import { withTempDir } from '../helpers/cli.js'
import { cli, digest, expectExit, git, initRepo } from './repo-fixture.js'

async function readRepo(dir: string) {
  const { spec } = parseSpec(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8'))
  const texts = new Map<string, string | undefined>()
  const readText = (path: string) => texts.get(path)
  const load = async (paths: string[]) => {
    for (const path of paths) texts.set(path, await readFile(join(dir, path), 'utf8').catch(() => undefined))
  }
  return { spec, store: pinStoreFor(spec), readText, load }
}

async function pinAll(dir: string, envs: string[], pins: Record<string, string>, message: string): Promise<void> {
  const { spec, store, readText, load } = await readRepo(dir)
  for (const env of envs) {
    await load(store.files(spec, env))
    for (const [path, text] of store.write(spec, env, readText, { pins: new Map(Object.entries(pins)) })) {
      await writeFile(join(dir, path), text)
    }
  }
  await git(dir, 'commit', '-q', '-am', message)
}

async function pinsOf(dir: string, env: string): Promise<Record<string, string | undefined>> {
  const { spec, store, readText, load } = await readRepo(dir)
  await load(store.files(spec, env))
  return Object.fromEntries(store.read(spec, env, readText).map((pin) => [pin.component, pin.digest]))
}

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate', config: 'renovate.json' },
  { flavour: 'helm', updater: 'renovate', config: 'renovate.json' },
  { flavour: 'kustomize', updater: 'dependabot', config: '.github/dependabot.yml' },
  { flavour: 'helm', updater: 'dependabot', config: '.github/dependabot.yml' },
] as const

describe.each(SHAPES)('$flavour repo kept by $updater', ({ flavour, updater, config }) => {
  it('rollback restores and freezes prod, history sees it, unfreeze gives back the updater config', async () => {
    await withTempDir(async (dir) => {
      await initRepo(dir, { extra: ['--flavour', flavour, '--updater', updater] })
      for (const n of [1, 2, 3]) {
        await pinAll(dir, ['stage', 'prod'], { api: digest(`${n}1`), web: digest(`${n}2`) }, `Release ${n}`)
      }
      const configBefore = await readFile(join(dir, config), 'utf8')

      const rolled = await cli(['rollback', '--env', 'prod', '--steps', '1', '--json', dir])
      expectExit(rolled, 0)
      expect(await pinsOf(dir, 'prod')).toEqual({ api: digest(21), web: digest(22) })
      expect(await pinsOf(dir, 'stage')).toEqual({ api: digest(31), web: digest(32) })
      const { spec, store } = await readRepo(dir)
      const frozenConfig = await readFile(join(dir, config), 'utf8')
      if (updater === 'renovate') {
        expect(JSON.parse(frozenConfig).packageRules.at(-1)).toMatchObject({
          matchFileNames: store.files(spec, 'prod'),
          enabled: false,
        })
      } else {
        expect(frozenConfig).toMatch(
          /directory: \/environments\/prod[^\n]*\n(?:\s{4}.*\n)*?\s{4}open-pull-requests-limit: 0\n/,
        )
        expect(frozenConfig.match(/open-pull-requests-limit: 0/g)).toHaveLength(1)
      }
      const changedFiles = await git(dir, 'show', '--name-only', '--format=', 'HEAD')
      for (const file of [...store.files(spec, 'prod'), 'konflux-gitops.yaml', config])
        expect(changedFiles).toContain(file)

      // init renders the same freeze, validate only notes it.
      const reinit = await cli(['init', dir, '--json'])
      expect(reinit.json).toMatchObject({ created: [], updated: [], deleted: [], conflicts: [], commit: null })
      const validate = await cli(['validate', dir, '--json'])
      expectExit(validate, 0)
      const rules = (validate.json as { findings: Array<{ rule: string }> }).findings.map((f) => f.rule)
      expect(rules).toContain('environment-frozen')

      const history = await cli(['history', '--env', 'prod', '--component', 'web', '--json', dir])
      expectExit(history, 0)
      const digests = (history.json as { changes: Array<{ digest: string | null }> }).changes.map((c) => c.digest)
      expect(digests).toEqual([digest(22), digest(32), digest(22), digest(12), null])

      expectExit(await cli(['unfreeze', '--env', 'prod', dir]), 0)
      expect(await readFile(join(dir, config), 'utf8')).toBe(configBefore)
    })
  })
})
