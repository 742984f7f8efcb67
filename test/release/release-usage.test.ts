import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'

const passed = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')

describe('konflux-gitops release: input errors never reach a registry', () => {
  test('a bad --tag, a missing file and a broken mapping are usage errors (exit 2) naming what is wrong', async () => {
    const badTag = await runCli(['release', '--snapshot', passed, '--tag', 'not/a/tag'])
    expect(badTag.exitCode).toBe(2)
    expect(badTag.stderr).toMatch(/--tag "not\/a\/tag": a tag may contain only/)

    const missing = await runCli(['release', '--snapshot', 'nope.yaml'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/--snapshot nope\.yaml: no such file/)

    await withTempDir(async (dir) => {
      const mapping = join(dir, 'mapping.yaml')
      await writeFile(mapping, 'components:\n  - name: api\n    tags: released\n')
      const broken = await runCli(['release', '--snapshot', passed, '--mapping', mapping, '--json'])
      expect(broken.exitCode).toBe(2)
      expect(broken.json).toMatchObject({ error: { code: 'invalid-mapping', exit: 2 } })
      expect((broken.json as { error: { message: string } }).error.message).toMatch(
        /mapping\.yaml: components\.0\.tags/,
      )
    })
  })

  test('a Snapshot from a pull request is refused with the reason', async () => {
    await withTempDir(async (dir) => {
      const { readFile } = await import('node:fs/promises')
      const file = join(dir, 'pr.yaml')
      // As Pipelines as Code labels a pull request build: event type and pull request number.
      await writeFile(
        file,
        (await readFile(passed, 'utf8')).replace(
          'event-type: push',
          'event-type: pull_request\n    pac.test.appstudio.openshift.io/pull-request: "12"',
        ),
      )
      const result = await runCli(['release', '--snapshot', file])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toMatch(
        /built for a pull request \(label pac.test.appstudio.openshift.io\/event-type: pull_request\)/,
      )
    })
  })
})
