import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, withTempDir } from '../helpers/cli.js'
import { SHOP_INIT_ARGS } from '../helpers/spec.js'

// The contract between init (issue 3) and validate (issue 5): what init writes passes every check.
describe('a repository written by init', () => {
  it('validates clean, including with --fail-on warning', async () => {
    await withTempDir(async (dir) => {
      const init = await runCli(['init', 'demo', ...SHOP_INIT_ARGS, '--json'], {
        cwd: dir,
        env: {
          GIT_AUTHOR_NAME: 'Test',
          GIT_COMMITTER_NAME: 'Test',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      })
      expect(init.exitCode, init.stderr).toBe(0)
      const result = await runCli(['validate', join(dir, 'demo'), '--json', '--fail-on', 'warning'])
      expect((result.json as { findings: unknown[] }).findings).toEqual([])
      expect(result.exitCode).toBe(0)
    })
  })
})
