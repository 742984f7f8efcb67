import { describe, expect, it } from 'vitest'
import { frozenEnvironmentOf, withFreezeRules } from '../../src/freeze/index.js'
import { renovateConfigForRepo } from '../../src/presets/index.js'
import { repoSpec } from '../../src/spec/index.js'

const spec = (frozen: string[]) =>
  repoSpec.parse({
    apiVersion: 'konflux-gitops.dev/v1alpha1',
    kind: 'GitOpsRepo',
    app: 'shop',
    components: [{ name: 'api', image: 'quay.io/acme/shop/api' }],
    environments: ['dev', 'stage', 'prod'].map((name) => ({
      name,
      ...(frozen.includes(name) ? { frozen: { by: 'ann', at: '2026-11-24T10:00:00Z' } } : {}),
    })),
  })

describe('the Renovate freeze rule', () => {
  const configs: Record<string, string> = {
    'extends only, four-space indent': `{\n    "extends": ["github>acme/renovate-config"],\n    "timezone": "Europe/Prague"\n}\n`,
    'JSONC with a comment and a one-line rule': `{\n  // ours\n  "packageRules": [\n    {"matchPackageNames": ["a"], "automerge": true}\n  ],\n}\n`,
    'tabs and two rules': `{\n\t"packageRules": [\n\t\t{ "matchUpdateTypes": ["digest"] },\n\t\t{ "automerge": false }\n\t]\n}`,
  }
  for (const [name, text] of Object.entries(configs)) {
    it(`${name}: freezing adds only the rule, unfreezing gives back the same bytes`, () => {
      const prod = withFreezeRules(text, 'renovate.json', spec(['prod']))
      const both = withFreezeRules(prod, 'renovate.json', spec(['dev', 'prod']))
      for (const frozen of [prod, both]) {
        expect(frozen.startsWith(text.slice(0, text.indexOf('\n') + 1))).toBe(true)
        expect(frozen.split('\n').filter((line) => !text.includes(line))).not.toHaveLength(0)
      }
      const rules = (JSON.parse(both.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1')).packageRules ??
        []) as unknown[]
      expect(rules.map(frozenEnvironmentOf).filter(Boolean)).toEqual(['dev', 'prod'])
      expect(withFreezeRules(both, 'renovate.json', spec(['prod']))).toBe(prod)
      expect(withFreezeRules(prod, 'renovate.json', spec([]))).toBe(text)
      expect(withFreezeRules(text, 'renovate.json', spec([]))).toBe(text)
    })
  }

  it('matches what the renovate.json renderer writes for the same spec, so init and freeze agree', () => {
    for (const preset of [undefined, 'github>acme/renovate-config']) {
      const render = (frozen: string[]) => ({ ...spec(frozen), renovatePreset: preset })
      const plain = `${JSON.stringify(renovateConfigForRepo(render([])), null, 2)}\n`
      const rendered = renovateConfigForRepo(render(['stage', 'prod']))
      expect(JSON.parse(withFreezeRules(plain, 'renovate.json', render(['stage', 'prod'])))).toEqual(rendered)
      expect((rendered.packageRules as unknown[]).slice(-2)).toEqual([
        expect.objectContaining({ matchFileNames: ['environments/stage/kustomization.yaml'], enabled: false }),
        expect.objectContaining({ matchFileNames: ['environments/prod/kustomization.yaml'], enabled: false }),
      ])
    }
  })

  it('refuses a config it cannot read rather than rewriting it', () => {
    expect(() => withFreezeRules('{ "packageRules": ', 'renovate.json', spec(['prod']))).toThrow(
      /renovate.json is not a JSON object/,
    )
    expect(() => withFreezeRules('{ "packageRules": {} }', 'renovate.json', spec(['prod']))).toThrow(
      /packageRules is not a list/,
    )
  })
})
