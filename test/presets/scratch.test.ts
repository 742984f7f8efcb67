import { test } from 'vitest'
import { orgPresetParameters, renderAllPresets } from '../../src/presets/index.js'
import { validateRenovateConfig } from '../../src/renovate/index.js'
test('scratch', async () => {
  const all = renderAllPresets(orgPresetParameters({ registryPrefix: 'quay.io/acme', automerge: ['dev'] }))
  for (const [n, c] of Object.entries(all)) console.log(n, JSON.stringify(await validateRenovateConfig(c, { file: n, isPreset: true })))
  console.log(JSON.stringify(all.default, null, 1))
})
