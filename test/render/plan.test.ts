import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { ComponentPin } from '../../src/pins/index.js'
import { planRender } from '../../src/render/index.js'
import { parseSnapshotText } from '../../src/render/snapshot-input.js'
import { type RepoSpec, repoSpec } from '../../src/spec/index.js'

const hex = fc.stringMatching(/^[0-9a-f]{64}$/)
const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { minLength: 1, maxLength: 5 })

function specWith(components: string[]): RepoSpec {
  return repoSpec.parse({
    apiVersion: 'konflux-gitops.dev/v1alpha1',
    kind: 'GitOpsRepo',
    app: 'shop',
    components: components.map((name) => ({ name, image: `quay.io/acme/shop/${name}` })),
    environments: [{ name: 'stage' }],
  })
}

describe('planRender (pure)', () => {
  it('sets exactly the Snapshot digests and leaves every other component at its pin', () => {
    fc.assert(
      fc.property(
        names.chain((all) =>
          fc.record({
            all: fc.constant(all),
            inSnapshot: fc.subarray(all, { minLength: 1 }),
            digests: fc.array(hex, { minLength: all.length, maxLength: all.length }),
            pins: fc.array(hex, { minLength: all.length, maxLength: all.length }),
          }),
        ),
        ({ all, inSnapshot, digests, pins }) => {
          const spec = specWith(all)
          const stagePins: ComponentPin[] = all.map((name, i) => ({
            component: name,
            repository: `quay.io/acme/shop/${name}`,
            file: 'environments/stage/kustomization.yaml',
            tag: 'released',
            digest: `sha256:${pins[i]}`,
          }))
          const snapshot = parseSnapshotText(
            JSON.stringify({
              application: 'shop',
              components: inSnapshot.map((name) => ({
                name,
                containerImage: `quay.io/acme/shop/${name}@sha256:${digests[all.indexOf(name)]}`,
              })),
            }),
            'test',
          )
          const plan = planRender({
            spec,
            env: spec.environments[0],
            pins: stagePins,
            snapshot,
            namespace: 'pr-1',
            allowUnknown: false,
            outToRepo: '../repo',
          })
          const kustomization = parse(plan.kustomization) as {
            namespace: string
            resources: string[]
            images: Array<{ name: string; digest?: string; newTag?: string }>
          }
          expect(kustomization.namespace).toBe('pr-1')
          expect(kustomization.resources).toEqual(['../repo/environments/stage'])
          // Only Snapshot components get an entry: the environment's own pins apply to the rest.
          expect(kustomization.images).toEqual(
            inSnapshot.map((name) => ({
              name: `quay.io/acme/shop/${name}`,
              digest: `sha256:${digests[all.indexOf(name)]}`,
            })),
          )
          for (const image of plan.images) {
            const i = all.indexOf(image.component)
            if (inSnapshot.includes(image.component)) expect(image.digest).toBe(`sha256:${digests[i]}`)
            else expect(image).toMatchObject({ source: 'pin', digest: `sha256:${pins[i]}` })
          }
          expect(plan.images).toHaveLength(all.length)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('accepts the SNAPSHOT parameter form and the full object alike', () => {
    const spec = {
      application: 'shop',
      components: [{ name: 'api', containerImage: `quay.io/a/api@sha256:${'1'.repeat(64)}` }],
    }
    const fromParam = parseSnapshotText(JSON.stringify(spec), 'param')
    const fromObject = parseSnapshotText(
      JSON.stringify({ apiVersion: 'appstudio.redhat.com/v1alpha1', kind: 'Snapshot', metadata: { name: 'x' }, spec }),
      'object',
    )
    expect(fromParam.components).toEqual(fromObject.components)
    expect(() =>
      parseSnapshotText(JSON.stringify({ components: [{ name: 'a', containerImage: 'quay.io/a/a:1' }] }), 'param'),
    ).toThrow(/param: spec: names neither application nor componentGroup/)
  })

  it('refuses a Snapshot image without a digest: it could not be deployed exactly', () => {
    const spec = specWith(['api'])
    const snapshot = parseSnapshotText(
      JSON.stringify({
        application: 'shop',
        components: [{ name: 'api', containerImage: 'quay.io/acme/shop/api:latest' }],
      }),
      'param',
    )
    expect(() =>
      planRender({
        spec,
        env: undefined,
        pins: [],
        snapshot,
        namespace: undefined,
        allowUnknown: true,
        outToRepo: '..',
      }),
    ).toThrow(/"api": containerImage quay.io\/acme\/shop\/api:latest has no @sha256: digest/)
  })

  it('renders a ComponentGroup Snapshot (spec.componentGroup, no application), the spec form test pipelines get', () => {
    const spec = specWith(['api'])
    const snapshot = parseSnapshotText(
      JSON.stringify({
        componentGroup: 'shop',
        components: [{ name: 'api', containerImage: `quay.io/acme/shop/api@sha256:${'1'.repeat(64)}` }],
      }),
      'param',
    )
    const plan = planRender({
      spec,
      env: undefined,
      pins: [],
      snapshot,
      namespace: undefined,
      allowUnknown: false,
      outToRepo: '..',
    })
    expect(plan.images.map((i) => i.digest)).toEqual([`sha256:${'1'.repeat(64)}`])
    expect(plan.warnings).toEqual([])
  })

  it('two versions of one component: each deploys as NAME-VERSION, or the Snapshot is refused naming both', () => {
    const two = parseSnapshotText(
      JSON.stringify({
        componentGroup: 'shop',
        components: [
          { name: 'api', version: 'v1', containerImage: `quay.io/acme/shop/api@sha256:${'1'.repeat(64)}` },
          { name: 'api', version: 'v2', containerImage: `quay.io/acme/shop/api@sha256:${'2'.repeat(64)}` },
        ],
      }),
      'param',
    )
    const input = {
      env: undefined,
      pins: [],
      snapshot: two,
      namespace: undefined,
      allowUnknown: false,
      outToRepo: '..',
    }
    expect(() => planRender({ ...input, spec: specWith(['api']) })).toThrow(
      /"api" version v1 .*: the Snapshot has versions v1, v2 of api and this repo has no component api-v1/,
    )
    const spec = repoSpec.parse({
      ...specWith([]),
      components: [
        { name: 'api-v1', image: 'quay.io/acme/shop/api' },
        { name: 'api-v2', image: 'quay.io/acme/shop/api' },
      ],
    })
    const plan = planRender({ ...input, spec })
    expect(plan.images.map((i) => `${i.component}@${i.digest?.slice(7, 8)}`)).toEqual(['api-v1@1', 'api-v2@2'])
  })
})
