import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { pinStoreFor } from '../../src/pins/index.js'
import { repoReader } from '../../src/repo/index.js'
import { readSpec } from '../../src/spec/index.js'
import { kubeTools } from '../harness/kube-tools.js'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'
import type { Loose } from '../init/repo-checks.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const API = 'quay.io/redhat-user-workloads/acme-tenant/shop/api'
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'
const NEWER = `sha256:${'c'.repeat(64)}`

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
] as const

describe.each(SHAPES)('render, promote and status on $flavour + $updater', ({ flavour, updater }) => {
  it('read and move the pins through the shape’s own files', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const tools = await kubeTools()
      // kubectl (kustomize) and helm on PATH, as render --build finds them.
      const env = { PATH: `${dirname(tools.kubectl)}:${dirname(tools.helm)}:${process.env.PATH}` }
      const init = await runCli(
        ['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', flavour, '--updater', updater],
        { cwd: tmp },
      )
      expect(init.exitCode, init.stderr).toBe(0)
      const spec = (await readSpec(repo))!.spec
      const store = pinStoreFor(spec)

      // A newer digest reached dev (as the updater's merged pull request would leave it).
      for (const [path, text] of store.write(spec, 'dev', repoReader(repo), { pins: new Map([['api', NEWER]]) })) {
        await writeFile(join(repo, path), text)
      }
      await run('git', ['-C', repo, 'commit', '-qam', 'dev: newer api'])

      const status = await runCli(['status', repo, '--json'])
      expect(status.exitCode, status.stderr).toBe(0)
      const api = (envName: string) =>
        (status.json as Loose).environments
          .find((e: Loose) => e.name === envName)
          .components.find((c: Loose) => c.component === 'api')
      expect(api('dev')).toMatchObject({ state: 'pinned', digest: NEWER })
      expect(api('prod')).toMatchObject({ state: 'pinned', digest: API_DIGEST })

      // render builds the Snapshot's digests over an environment, with the shape's own tool.
      const render = await runCli(['render', repo, '--snapshot', SNAPSHOT, '--env', 'dev', '--build', '--json'], {
        env,
      })
      expect(render.exitCode, render.stderr).toBe(0)
      expect((render.json as Loose).manifests).toMatch(
        new RegExp(`image: "?${API.replace(/\./g, '\\.')}(:released)?@${API_DIGEST}"?\\n`),
      )
      expect((render.json as Loose).manifests).not.toContain(NEWER)

      const promote = await runCli(['promote', repo, '--from', 'dev', '--to', 'stage', '--json'])
      expect(promote.exitCode, promote.stderr).toBe(0)
      expect((promote.json as Loose).files).toEqual(store.files(spec, 'stage').filter((f) => !f.endsWith('web.yaml')))
      const stage = store.read(spec, 'stage', repoReader(repo))
      expect(stage.find((p) => p.component === 'api')?.digest).toBe(NEWER)
      expect(stage.find((p) => p.component === 'web')?.digest).toBe(
        store.read(spec, 'prod', repoReader(repo)).find((p) => p.component === 'web')?.digest,
      )
    })
  })
})
