import { describe, expect, test } from 'vitest'
import {
  orgPresetParameters,
  PRESET_NAMES,
  PRESET_TEMPLATES,
  presetReference,
  renderAllPresets,
  renderPreset,
  renovateConfigForRepo,
} from '../../src/presets/index.js'
import { validateRenovateConfig } from '../../src/renovate/index.js'
import { repoSpec } from '../../src/spec/index.js'

type Rule = Record<string, unknown>
const rules = (config: Record<string, unknown>) => config.packageRules as Rule[]

const spec = (extra: Record<string, unknown> = {}) =>
  repoSpec.parse({
    apiVersion: 'konflux-gitops.dev/v1alpha1',
    kind: 'GitOpsRepo',
    app: 'shop',
    components: [
      { name: 'api', image: 'quay.io/acme/shop/api' },
      { name: 'web', image: 'quay.io/acme/shop/web' },
    ],
    environments: [{ name: 'dev' }, { name: 'stage', autoMerge: true }, { name: 'prod' }],
    ...extra,
  })

describe('shipped templates', () => {
  test('every placeholder is filled and every rendered preset passes Renovate validation', async () => {
    const all = renderAllPresets(orgPresetParameters({ registryPrefix: 'quay.io/acme', automerge: ['dev'] }))
    for (const name of PRESET_NAMES) {
      expect(JSON.stringify(all[name])).not.toContain('@@')
      const result = await validateRenovateConfig(all[name], { file: `${name}.json`, isPreset: true })
      expect(result.errors, name).toEqual([])
    }
  })

  test('default is exactly the named pieces composed, so admins can mix them without drift', () => {
    const parameters = orgPresetParameters({ registryPrefix: 'quay.io/acme', automerge: ['dev', 'staging'] })
    const pieces = PRESET_NAMES.filter((name) => name !== 'default').flatMap((name) =>
      rules(renderPreset(name, parameters)),
    )
    expect(rules(renderPreset('default', parameters))).toEqual(pieces)
  })

  test('the templates on disk are the ones rendered', () => {
    expect(Object.keys(PRESET_TEMPLATES).sort()).toEqual([...PRESET_NAMES].sort())
  })
})

describe('org presets', () => {
  test('pins and groups only images under the registry prefix that follow the tag', () => {
    const config = renderPreset('default', orgPresetParameters({ registryPrefix: 'quay.io/acme/', tag: 'validated' }))
    const pin = rules(config).find((rule) => rule.pinDigests === true)
    expect(pin).toMatchObject({ matchPackageNames: ['quay.io/acme/**'], matchCurrentValue: 'validated' })
    const group = rules(config).find((rule) => rule.groupName !== undefined)
    expect(group).toMatchObject({ matchFileNames: ['environments/**'], groupName: '{{{parentDir}}} environment' })
    expect(rules(config).find((rule) => 'minimumReleaseAge' in rule)?.minimumReleaseAge).toBeNull()
  })

  test('auto-merges the listed environments and guards production last', () => {
    const config = renderPreset('automerge-dev', orgPresetParameters({ automerge: ['dev', 'qa'] }))
    expect(rules(config)).toEqual([
      expect.objectContaining({ matchFileNames: ['environments/dev/**', 'environments/qa/**'], automerge: true }),
      expect.objectContaining({
        matchFileNames: ['environments/prod/**', 'environments/production/**'],
        automerge: false,
      }),
    ])
  })

  test('no auto-merge environment drops the rule instead of auto-merging everything', () => {
    const config = renderPreset('automerge-dev', orgPresetParameters({ automerge: [] }))
    expect(rules(config).some((rule) => rule.automerge === true)).toBe(false)
    expect(rules(config)).toHaveLength(1)
  })

  test('references follow Renovate preset syntax', () => {
    expect(presetReference('acme', 'renovate-config')).toBe('github>acme/renovate-config')
    expect(presetReference('acme', 'renovate-config', 'digest-pinning')).toBe(
      'github>acme/renovate-config:digest-pinning',
    )
  })
})

describe('renovate.json of a GitOps repo', () => {
  test('inlines the default rules for its own images and environments', async () => {
    const config = renovateConfigForRepo(spec())
    expect(config.extends).toBeUndefined()
    const pin = rules(config).find((rule) => rule.pinDigests === true)
    expect(pin?.matchPackageNames).toEqual(['quay.io/acme/shop/api', 'quay.io/acme/shop/web'])
    const automerge = rules(config).filter((rule) => 'automerge' in rule)
    expect(automerge).toEqual([
      expect.objectContaining({ matchFileNames: ['environments/dev/**', 'environments/stage/**'], automerge: true }),
      expect.objectContaining({ matchFileNames: ['environments/prod/**'], automerge: false }),
    ])
    expect((await validateRenovateConfig(config, { file: 'renovate.json' })).errors).toEqual([])
  })

  test('extends the org preset when the spec names one', () => {
    expect(renovateConfigForRepo(spec({ renovatePreset: 'github>acme/renovate-config' }))).toEqual({
      $schema: 'https://docs.renovatebot.com/renovate-schema.json',
      extends: ['github>acme/renovate-config'],
    })
  })
})
