/**
 * The one drift function on every repo shape: after `released` moves in a real registry, `status
 * --against-registry` and `validate --against-registry` both see every environment's pin as drifted, reading the
 * pins of each shape through the pin seam, and point at the pin's file (and, for validate, its line).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'

let registry: TestRegistry

beforeAll(async () => {
  registry = await startRegistry({ tls: true, auth: 'token' })
})
afterAll(async () => {
  await registry?.stop()
})

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate', pinFile: 'environments/prod/kustomization.yaml' },
  { flavour: 'kustomize', updater: 'dependabot', pinFile: 'environments/prod/images/api.yaml' },
  { flavour: 'helm', updater: 'renovate', pinFile: 'environments/prod/values.yaml' },
  { flavour: 'helm', updater: 'dependabot', pinFile: 'environments/prod/values.yaml' },
] as const

interface Status {
  moved: number
  environments: {
    name: string
    components: { component: string; file: string | null; registry: { moved: boolean; digest: string | null } | null }[]
  }[]
}

describe.each(SHAPES)('drift on $flavour + $updater', ({ flavour, updater, pinFile }) => {
  it('status and validate --against-registry see the moved tag at the pin', async () => {
    await withTempDir(async (root) => {
      const repoPath = `acme/drift-${flavour}-${updater}/api`
      const pinned = await registry.pushImage(repoPath, 'build-1')
      await registry.moveTag(repoPath, 'released', pinned)
      const dir = join(root, 'gitops')
      const init = await runCli(
        [
          'init',
          dir,
          '--app',
          'shop',
          '--component',
          `api=${registry.host}/${repoPath}`,
          '--ci',
          'none',
          '--flavour',
          flavour,
          '--updater',
          updater,
          '--pin',
        ],
        { env: registry.env },
      )
      expect(init.exitCode, init.stderr).toBe(0)
      const next = await registry.pushImage(repoPath, 'build-2')
      await registry.moveTag(repoPath, 'released', next)

      const status = await runCli(['status', dir, '--against-registry', '--json'], { env: registry.env })
      expect(await schemaErrors('status', status.json), status.stdout + status.stderr).toEqual([])
      expect(status.exitCode).toBe(1)
      const report = status.json as Status
      expect(report.moved).toBe(3)
      const prod = report.environments.find((e) => e.name === 'prod')!.components[0]!
      expect(prod).toMatchObject({ component: 'api', file: pinFile, registry: { moved: true, digest: next } })

      const validate = await runCli(['validate', dir, '--against-registry', '--json'], { env: registry.env })
      const drift = (
        validate.json as { findings: { rule: string; file: string; line: number; message: string }[] }
      ).findings.filter((f) => f.rule === 'image-drift')
      expect(drift.map((f) => f.file).sort()).toEqual(
        ['dev', 'prod', 'stage'].map((env) => pinFile.replace('prod', env)).sort(),
      )
      const hit = drift.find((f) => f.file === pinFile)!
      expect(hit.message).toContain(next)
      const text = await readFile(join(dir, pinFile), 'utf8')
      expect(text.split('\n')[hit.line - 1]).toContain(pinned)
    })
  })
})
