import { describe, expect, it } from 'vitest'
import { defaultRollbackBranch, planRollback, rollbackMessage } from '../../src/rollback/index.js'
import { repoSpec } from '../../src/spec/index.js'
import { digest } from './repo-fixture.js'

const spec = repoSpec.parse({
  apiVersion: 'konflux-gitops.dev/v1alpha1',
  kind: 'GitOpsRepo',
  app: 'shop',
  components: [
    { name: 'api', image: 'quay.io/acme/shop/api' },
    { name: 'web', image: 'quay.io/acme/shop/web' },
  ],
  environments: [{ name: 'prod' }],
})
const pin = (component: string, d: string | undefined, tag = 'released') => ({
  component,
  repository: `quay.io/acme/shop/${component}`,
  file: 'environments/prod/kustomization.yaml',
  tag,
  digest: d,
})
const target = { commit: 'a'.repeat(40), date: '2026-11-24T10:00:00Z', subject: 'Release 2' }

describe('planRollback (pure)', () => {
  it('restores what differs, keeps what already matches, and names the origin of each digest', () => {
    const plan = planRollback({
      spec,
      env: 'prod',
      target,
      current: [pin('api', digest(3)), pin('web', digest(2))],
      restore: [pin('api', digest(1)), pin('web', digest(2))],
      origins: new Map([['api', { ...target, commit: 'b'.repeat(40) }]]),
    })
    expect(plan.changes).toEqual([
      expect.objectContaining({
        component: 'api',
        current: digest(3),
        restored: digest(1),
        from: expect.objectContaining({ commit: 'b'.repeat(40) }),
      }),
    ])
    expect(plan.unchanged).toEqual(['web'])
    expect(rollbackMessage(plan, true)).toContain(
      `- api (quay.io/acme/shop/api:released): ${digest(3)} -> ${digest(1)} (from bbbbbbbbbbbb)`,
    )
    expect(rollbackMessage(plan, false)).not.toContain('Freezes prod')
    // Same change, same branch: a re-run after a failed push finds it.
    expect(defaultRollbackBranch(plan)).toBe(defaultRollbackBranch({ ...plan }))
    expect(defaultRollbackBranch(plan)).toMatch(/^konflux-gitops\/rollback-prod-[0-9a-f]{8}$/)
  })

  it('refuses a restore point pinned to another tag, or unpinned for a named component', () => {
    expect(() =>
      planRollback({
        spec,
        env: 'prod',
        target,
        current: [pin('api', digest(3))],
        restore: [pin('api', digest(1), 'latest')],
      }),
    ).toThrow(/api pinned tag "latest" at aaaaaaaaaaaa, but this repo deploys tag "released" now/)
    expect(() =>
      planRollback({
        spec,
        env: 'prod',
        target,
        current: [pin('api', digest(3))],
        restore: [pin('api', undefined)],
        components: ['api'],
      }),
    ).toThrow(/api was not pinned to a digest in prod at aaaaaaaaaaaa/)
    expect(() =>
      planRollback({ spec, env: 'prod', target, current: [pin('api', digest(3))], restore: [pin('api', digest(3))] }),
    ).toThrow(/prod already pins the digests it had at aaaaaaaaaaaa \(api\): nothing to roll back/)
    expect(() =>
      planRollback({ spec, env: 'prod', target, current: [pin('api', digest(3))], restore: [], components: ['web'] }),
    ).toThrow(/environment prod has no pin for web/)
  })
})
