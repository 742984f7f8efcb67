import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { validateRenovateConfig } from '../../src/renovate/index.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'

describe('presets build', () => {
  test('writes the four presets, each valid for Renovate, and reports them under --json', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'renovate-config')
      const run = await runCli([
        'presets',
        'build',
        '--out',
        out,
        '--registry-prefix',
        'quay.io/acme',
        '--automerge',
        'dev,qa',
        '--json',
      ])
      expect(run.exitCode, run.stderr).toBe(0)
      expect(await schemaErrors('presets build', run.json)).toEqual([])
      expect((await readdir(out)).sort()).toEqual([
        'automerge-dev.json',
        'default.json',
        'digest-pinning.json',
        'group-by-environment.json',
      ])
      for (const file of await readdir(out)) {
        const config = JSON.parse(await readFile(join(out, file), 'utf8'))
        expect((await validateRenovateConfig(config, { file, isPreset: true })).errors, file).toEqual([])
      }
      const defaults = JSON.parse(await readFile(join(out, 'default.json'), 'utf8'))
      expect(JSON.stringify(defaults)).toContain('quay.io/acme/**')
      expect(JSON.stringify(defaults)).toContain('environments/qa/**')
      expect(run.json).toMatchObject({ files: [{ name: 'default', status: 'created' }, {}, {}, {}] })
    })
  })

  test('a second run leaves unchanged files alone; --dry-run writes nothing', async () => {
    await withTempDir(async (dir) => {
      expect((await runCli(['presets', 'build', '--out', dir])).exitCode).toBe(0)
      const before = (await stat(join(dir, 'default.json'))).mtimeMs
      const again = await runCli(['presets', 'build', '--out', dir])
      expect(again.stdout).toMatch(/unchanged\s+\S+default\.json/)
      expect((await stat(join(dir, 'default.json'))).mtimeMs).toBe(before)

      const dry = await runCli([
        'presets',
        'build',
        '--out',
        dir,
        '--tag',
        'validated',
        '--automerge',
        'none',
        '--dry-run',
      ])
      expect(dry.exitCode).toBe(0)
      expect(dry.stdout).toContain('auto-merge: none')
      expect(dry.stdout).toMatch(/would be updated\s+\S+digest-pinning\.json/)
      expect(await readFile(join(dir, 'digest-pinning.json'), 'utf8')).not.toContain('validated')
    })
  })

  test('bad flags are usage errors naming the flag, and write nothing', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'default.json'), 'kept\n')
      const prod = await runCli(['presets', 'build', '--out', dir, '--automerge', 'dev,prod'])
      expect(prod.exitCode).toBe(2)
      expect(prod.stderr).toContain('--automerge: "prod" is production')
      const prefix = await runCli([
        'presets',
        'build',
        '--out',
        dir,
        '--registry-prefix',
        'quay.io/acme:latest',
        '--json',
      ])
      expect(prefix.exitCode).toBe(2)
      expect(await schemaErrors('error', prefix.json)).toEqual([])
      expect(prefix.json).toMatchObject({ error: { message: expect.stringContaining('--registry-prefix') } })
      expect(await readdir(dir)).toEqual(['default.json'])
      expect(await readFile(join(dir, 'default.json'), 'utf8')).toBe('kept\n')
    })
  })

  test('--help shows examples and exit codes', async () => {
    const help = await runCli(['presets', 'build', '--help'])
    expect(help.stdout).toContain('--registry-prefix')
    expect(help.stdout).toContain('EXAMPLES')
    expect(help.stdout).toContain('EXIT CODES')
  })
})
