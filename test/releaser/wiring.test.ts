import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as release from '../../src/release/index.js'
import { planSnapshot } from '../../src/releaser/wiring.js'
import { parseSnapshot } from '../../src/snapshot/index.js'
import { ROOT } from '../helpers/cli.js'

const snapshot = parseSnapshot(
  await readFile(join(ROOT, 'test/fixtures/konflux/snapshot-passed.yaml'), 'utf8'),
  'snapshot-passed.yaml',
)
const mappingWith = (tag: string) =>
  release.parseMapping(
    JSON.stringify({ components: [{ name: 'api', repository: 'quay.io/acme/shop/api', tags: [tag] }] }),
    'mapping.json',
  )

describe('releaser planning', () => {
  it('plans one retag per component and tag from the release planner', () => {
    const retags = planSnapshot(release, snapshot, undefined, ['released'])
    expect(retags.map((r) => `${r.component} ${r.repository}:${r.tag}`)).toEqual([
      'api quay.io/redhat-user-workloads/acme-tenant/shop/api:released',
      'web quay.io/redhat-user-workloads/acme-tenant/shop/web:released',
    ])
  })

  it.each(['{{ timestamp }}', '{{ labels.version }}', '{{ oci_version }}'])(
    'refuses %s tags, which need the image config, as a usage error',
    (tag) => {
      expect(() => planSnapshot(release, snapshot, mappingWith(`v-${tag}`), ['released'])).toThrow(
        /components api: \{\{ timestamp \}\}, \{\{ oci_version \}\} and \{\{ labels\.X \}\} tags need the image config/,
      )
    },
  )

  it('refuses {{ incrementer }} tags, which need the target’s tag list, naming the repository', () => {
    expect(() => planSnapshot(release, snapshot, mappingWith('v1-{{ incrementer }}'), ['released'])).toThrow(
      /quay\.io\/acme\/shop\/api: \{\{ incrementer \}\} tags need the repository's tag list/,
    )
  })

  it('accepts tags that need no image config, such as {{ git_short_sha }}', () => {
    const retags = planSnapshot(release, snapshot, mappingWith('{{ git_short_sha }}'), ['released'])
    // The mapping's tags add to --tag (Konflux merges defaults.tags with a component's own tags).
    expect(retags.filter((r) => r.component === 'api').map((r) => r.tag)).toEqual(['released', '4f2a9c0'])
  })
})
