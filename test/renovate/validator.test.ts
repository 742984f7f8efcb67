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
    expect(result).toEqual({ errors: [], warnings: [], checkedBy: 'renovate' })
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

describe('schemas/renovate-config.json (the schema validate uses without Renovate installed)', async () => {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const { Ajv } = await import('ajv')
  const root = join(import.meta.dirname, '..', '..')
  const schema = JSON.parse(await readFile(join(root, 'schemas', 'renovate-config.json'), 'utf8'))
  const check = new Ajv({ strict: false, allErrors: true }).compile(schema)

  it('accepts every preset konflux-gitops renders and the configs Renovate itself accepts above', async () => {
    const { checkPresetOptions, renderAllPresets } = await import('../../src/presets/index.js')
    const rendered = Object.entries(renderAllPresets(checkPresetOptions({ registryPrefix: 'quay.io/acme' })))
    expect(rendered.length).toBeGreaterThan(3)
    for (const [name, preset] of rendered) {
      expect({ name, ok: check(preset), errors: check.errors ?? null }).toEqual({ name, ok: true, errors: null })
    }
    expect(check({ extends: ['config:recommended'], packageRules: [{ matchUpdateTypes: ['digest'] }] })).toBe(true)
  })

  it('rejects what Renovate rejects for the options it lists: enums, types, packageRules entries', () => {
    const rejects = (config: unknown) => expect(check(config)).toBe(false)
    rejects({ automergeType: 'rocket' })
    rejects({ packageRules: [{ matchManagers: ['kustomize'], rangeStrategy: 'rocket' }] })
    rejects({ packageRules: [{ matchUpdateTypes: ['sideways'] }] })
    rejects({ extends: 'config:recommended' })
    rejects({ pinDigests: 'yes' })
    rejects({ kustomize: { managerFilePatterns: '/kustomization.yaml/' } })
  })
})
