/**
 * The "done when", end to end with the real parts: a real docker-registry (TLS from a test CA), a repo made
 * by `init --pin`, three releases pinned in turn, `rollback --env prod --steps 1`, then real Renovate lookups
 * (`--platform=local --dry-run=lookup`, through the doctor's runner): while prod is frozen Renovate proposes the
 * moved tag for dev and stage only; after `unfreeze`, for prod too. Two Renovate runs in all.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renovateLookup } from '../../src/doctor/renovate-run.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { withTempDir } from '../helpers/cli.js'
import { cli, expectExit, git, initRepo, release } from '../rollback/repo-fixture.js'

let registry: TestRegistry
beforeAll(async () => {
  registry = await startRegistry({ tls: true, auth: 'none' })
})
afterAll(async () => {
  await registry?.stop()
})

const COMPONENTS = ['api', 'web'] as const
const ENVS = ['dev', 'stage', 'prod']

async function pushRelease(): Promise<Record<string, string>> {
  const digests: Record<string, string> = {}
  for (const name of COMPONENTS) digests[name] = await registry.pushImage(`acme/shop/${name}`, 'released')
  return digests
}

async function proposalsByEnvironment(dir: string): Promise<Record<string, string[]>> {
  const lookup = await renovateLookup(dir, {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      NODE_EXTRA_CA_CERTS: registry.env.NODE_EXTRA_CA_CERTS,
      // Anything that tries to leave 127.0.0.1 goes to a closed port and fails fast.
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1',
    },
    hostRules: [{ matchHost: '127.0.0.1', allowInternal: true }],
  })
  expect(lookup.problems.filter((p) => !/RE2/.test(p))).toEqual([])
  expect(lookup.packageFiles).toEqual(ENVS.map((env) => `environments/${env}/kustomization.yaml`).sort())
  const byEnv: Record<string, string[]> = Object.fromEntries(ENVS.map((env) => [env, []]))
  for (const proposal of lookup.proposals) {
    const env = /^environments\/([^/]+)\//.exec(proposal.packageFile)?.[1] ?? '?'
    byEnv[env]?.push(
      `${proposal.depName.split('/').pop()} ${proposal.updateType} ${proposal.currentDigest} -> ${proposal.newDigest}`,
    )
  }
  for (const list of Object.values(byEnv)) list.sort()
  return byEnv
}

describe('rollback and freeze with real Renovate and a real registry', () => {
  it('rollback --steps 1 restores and freezes prod, Renovate leaves prod alone until unfreeze', {
    timeout: 180_000,
  }, async () => {
    await withTempDir(async (dir) => {
      const repo = join(dir, 'repo')
      const images = Object.fromEntries(COMPONENTS.map((name) => [name, `${registry.host}/acme/shop/${name}`]))
      const r1 = await pushRelease()
      await initRepo(repo, { images, extra: ['--pin'], env: registry.env })
      const r2 = await pushRelease()
      await release(repo, ENVS, r2, 'Release 2')
      const r3 = await pushRelease()
      const third = await release(repo, ENVS, r3, 'Release 3')
      expect(await readFile(join(repo, 'environments/prod/kustomization.yaml'), 'utf8')).toContain(`released@${r3.api}`)

      const rolled = await cli(['rollback', '--env', 'prod', '--steps', '1', '--json', repo])
      expectExit(rolled, 0)
      const result = rolled.json as { changes: Array<{ component: string; current: string; restored: string }> }
      expect(result.changes.map((c) => [c.component, c.current, c.restored])).toEqual(
        COMPONENTS.map((name) => [name, r3[name], r2[name]]),
      )
      expect(await git(repo, 'rev-parse', 'HEAD~1')).toBe(third)

      // `history` lists the three releases (init's pin, then two) before the rollback.
      const history = await cli(['history', '--env', 'prod', '--component', 'api', '--json', repo])
      const changes = (history.json as { changes: Array<{ digest: string; source: { kind: string } | null }> }).changes
      expect(changes.map((c) => [c.digest, c.source?.kind ?? null])).toEqual([
        [r2.api, 'rollback'],
        [r3.api, null],
        [r2.api, null],
        [r1.api, null],
      ])

      // The tag moves again: dev and stage get a proposal, frozen prod none.
      const r4 = await pushRelease()
      const frozen = await proposalsByEnvironment(repo)
      for (const env of ['dev', 'stage']) {
        expect(frozen[env]).toEqual(COMPONENTS.map((name) => `${name} digest ${r3[name]} -> ${r4[name]}`))
      }
      expect(frozen.prod).toEqual([])

      expectExit(await cli(['unfreeze', '--env', 'prod', repo]), 0)
      const thawed = await proposalsByEnvironment(repo)
      expect(thawed.prod).toEqual(COMPONENTS.map((name) => `${name} digest ${r2[name]} -> ${r4[name]}`))
      expect(thawed.dev).toEqual(frozen.dev)
    })
  })
})
