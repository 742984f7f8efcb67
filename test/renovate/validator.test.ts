import { describe, expect, it } from 'vitest'
import { digestPinning, validateRenovateConfig } from '../../src/renovate/index.js'

const file = 'renovate.json'

describe('validateRenovateConfig', () => {
  it('accepts a config a GitOps repo uses', async () => {
    const result = await validateRenovateConfig(
      {
        $schema: 'https://docs.renovatebot.com/renovate-schema.json',
        extends: ['config:recommended', 'docker:pinDigests'],
        kustomize: { managerFilePatterns: ['/(^|/)kustomization\\.ya?ml$/'] },
        packageRules: [{ matchManagers: ['kustomize'], matchUpdateTypes: ['digest'], automerge: true }],
      },
      { file },
    )
    expect(result).toEqual({ errors: [], warnings: [] })
  })

  it('reports unknown options and wrong types through Renovate, naming file and option', async () => {
    const { errors } = await validateRenovateConfig(
      { foo: 1, packageRules: [{ matchManagers: ['kustomize'], pinDigests: 'yes' }] },
      { file: '.github/renovate.json' },
    )
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: '.github/renovate.json', option: 'foo', source: 'renovate' }),
        expect.objectContaining({ option: 'packageRules[0].pinDigests', source: 'renovate' }),
      ]),
    )
  })

  it('catches enum errors that Renovate validator passes, at top level and in packageRules', async () => {
    const { errors } = await validateRenovateConfig(
      { automergeType: 'rocket', packageRules: [{ matchManagers: ['kustomize'], rangeStrategy: 'rocket' }] },
      { file },
    )
    expect(errors.map((e) => [e.option, e.source])).toEqual([
      ['automergeType', 'schema'],
      ['packageRules[0].rangeStrategy', 'schema'],
    ])
    expect(errors[0]?.message).toContain('"pr"')
  })

  it('reports a built-in preset that does not exist as an error and an external one as a warning', async () => {
    const result = await validateRenovateConfig(
      { extends: ['config:doesNotExist', 'github>acme/renovate-presets'] },
      { file },
    )
    expect(result.errors).toEqual([expect.objectContaining({ option: 'extends[0]', source: 'extends' })])
    expect(result.warnings).toEqual([expect.objectContaining({ option: 'extends[1]', source: 'extends' })])
  })

  it('warns when the config needs migration', async () => {
    const { warnings } = await validateRenovateConfig({ baseBranches: ['main'] }, { file })
    expect(warnings).toEqual([expect.objectContaining({ source: 'migration', option: 'baseBranches' })])
  })

  it('rejects a non-object config and leaves the caller object untouched', async () => {
    expect((await validateRenovateConfig([], { file })).errors).toHaveLength(1)
    const config = { extends: ['config:recommended'], packageRules: [{ matchManagers: ['kustomize'] }] }
    const copy = structuredClone(config)
    await validateRenovateConfig(config, { file, isPreset: true })
    expect(config).toEqual(copy)
  })
})

describe('digestPinning', () => {
  it('follows built-in presets offline', async () => {
    expect((await digestPinning({ extends: ['config:best-practices'] })).status).toBe('enabled')
    expect((await digestPinning({ pinDigests: true })).status).toBe('enabled')
    expect((await digestPinning({ extends: ['config:recommended'] })).status).toBe('disabled')
    expect((await digestPinning({ extends: ['github>acme/presets'] })).status).toBe('unknown')
  })
})
