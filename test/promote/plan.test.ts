import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ComponentPin } from '../../src/pins/index.js'
import { commitMessage, defaultBranchName, planPromotion } from '../../src/promote/index.js'
import { repoSpec } from '../../src/spec/index.js'

const spec = repoSpec.parse({
  apiVersion: 'konflux-gitops.dev/v1alpha1',
  kind: 'GitOpsRepo',
  app: 'shop',
  components: [
    { name: 'api', image: 'quay.io/acme/shop/api' },
    { name: 'web', image: 'quay.io/acme/shop/web' },
  ],
  environments: [{ name: 'stage' }, { name: 'prod' }],
})
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`)
const pin = (env: string, component: string, value: string | undefined): ComponentPin => ({
  component,
  repository: `quay.io/acme/shop/${component}`,
  file: `environments/${env}/kustomization.yaml`,
  tag: 'released',
  digest: value,
})

describe('planPromotion (pure)', () => {
  it('moves exactly the components whose digests differ, and a plan applied once has nothing left to move', () => {
    fc.assert(
      fc.property(digest, digest, digest, digest, (stageApi, stageWeb, prodApi, prodWeb) => {
        const fromPins = [pin('stage', 'api', stageApi), pin('stage', 'web', stageWeb)]
        const plan = planPromotion({
          spec,
          from: 'stage',
          to: 'prod',
          fromPins,
          toPins: [pin('prod', 'api', prodApi), pin('prod', 'web', prodWeb)],
        })
        const differing = [stageApi !== prodApi && 'api', stageWeb !== prodWeb && 'web'].filter(Boolean)
        expect(plan.changes.map((c) => c.component)).toEqual(differing)
        const promoted = [pin('prod', 'api', stageApi), pin('prod', 'web', stageWeb)]
        expect(planPromotion({ spec, from: 'stage', to: 'prod', fromPins, toPins: promoted }).changes).toEqual([])
        if (plan.changes.length > 0) {
          expect(defaultBranchName(plan)).toMatch(/^konflux-gitops\/promote-stage-to-prod-[0-9a-f]{8}$/)
          for (const change of plan.changes)
            expect(commitMessage(plan)).toContain(`${change.previous} -> ${change.digest}`)
        }
      }),
    )
  })

  it('refuses an unpinned source with every problem named at once', () => {
    expect(() =>
      planPromotion({
        spec,
        from: 'stage',
        to: 'prod',
        fromPins: [pin('stage', 'api', undefined), pin('stage', 'web', undefined)],
        toPins: [pin('prod', 'api', undefined)],
        components: ['api', 'web'],
      }),
    ).toThrow(/component api is not pinned in stage[\s\S]*component web is missing in environment prod/)
  })
})
