/**
 * One list of Renovate config file names: a repo whose config is renovate.json5 (or another name Renovate reads)
 * can be frozen, and validate then finds the freeze rule in that same file.
 */
import { execFile } from 'node:child_process'
import { readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { RENOVATE_FILES } from '../../src/freeze/index.js'
import { RENOVATE_CONFIG_FILES } from '../../src/renovate/index.js'
import { runCli, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)

describe('Renovate config file names', () => {
  it('freeze uses the list validate and doctor use', () => {
    expect(RENOVATE_FILES).toBe(RENOVATE_CONFIG_FILES)
  })

  it.each(['renovate.json5', '.github/renovate.json5', '.renovaterc.json'])(
    'freeze and validate agree on a repo whose config is %s',
    async (name) => {
      await withTempDir(async (tmp) => {
        const repo = join(tmp, 'demo')
        const init = await runCli(['init', 'demo', '--app', 'shop', '--component', 'api=quay.io/acme/shop/api'], {
          cwd: tmp,
        })
        expect(init.exitCode, init.stderr).toBe(0)
        await run('mkdir', ['-p', join(repo, '.github')])
        await rename(join(repo, 'renovate.json'), join(repo, name))
        const git = (...args: string[]) =>
          run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo })
        await git('add', '-A')
        await git('commit', '-qm', `renovate config as ${name}`)

        const freeze = await runCli(['freeze', '--env', 'prod', '--reason', 'incident 42'], { cwd: repo })
        expect(freeze.exitCode, freeze.stderr + freeze.stdout).toBe(0)
        expect(await readFile(join(repo, name), 'utf8')).toContain(
          'konflux-gitops freeze: no updates for environment prod',
        )
        const validate = await runCli(['validate', repo, '--json'])
        const rules = (validate.json as { findings: { rule: string }[] }).findings.map((f) => f.rule)
        expect(rules).toContain('environment-frozen')
        expect(rules).not.toContain('freeze-mismatch')
        expect(validate.exitCode, validate.stdout).toBe(0)
      })
    },
  )
})
