import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as release from '../../src/release/index.js'
import { RegistryUnavailable } from '../../src/releaser/executor.js'
import { type PlanFactsReader, planSnapshot } from '../../src/releaser/wiring.js'
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

/** A reader that records what it was asked and answers from a table (the real one is in intake.test.ts). */
function recordingReader(answer: () => Promise<Awaited<ReturnType<PlanFactsReader['read']>>>) {
  const calls: unknown[] = []
  const reader: PlanFactsReader = {
    read: async (input) => {
      calls.push(input)
      return answer()
    },
    close: async () => {},
  }
  return { reader, calls }
}

describe('releaser planning', () => {
  it('plans one retag per component and tag from the release planner', async () => {
    const retags = await planSnapshot(release, snapshot, undefined, ['released'])
    expect(retags.map((r) => `${r.component} ${r.repository}:${r.tag}`)).toEqual([
      'api quay.io/redhat-user-workloads/acme-tenant/shop/api:released',
      'web quay.io/redhat-user-workloads/acme-tenant/shop/web:released',
    ])
  })

  it.each(['{{ timestamp }}', '{{ labels.version }}', '{{ oci_version }}', '{{ incrementer }}'])(
    'expands %s from what the registry reader returns',
    async (tag) => {
      const { reader, calls } = recordingReader(async () => ({
        imageFacts: {
          [snapshot.components[0]!.containerImage]: {
            buildDate: '2026-11-02T10:00:00Z',
            labels: { version: '4.2' },
            ociVersion: '4.2.1',
          },
        },
        existingTags: { 'quay.io/acme/shop/api': ['v-3', 'v-7'] },
      }))
      const retags = await planSnapshot(release, snapshot, mappingWith(`v-${tag}`), ['released'], undefined, reader)
      expect(calls).toHaveLength(1)
      const expected = {
        '{{ timestamp }}': 'v-1793613600',
        '{{ labels.version }}': 'v-4.2',
        '{{ oci_version }}': 'v-4.2.1',
        '{{ incrementer }}': 'v-8',
      }[tag]
      expect(retags.filter((r) => r.component === 'api').map((r) => r.tag)).toEqual([expected, 'released'].sort())
    },
  )

  it('refuses such tags when it has no registry reader, naming them', async () => {
    await expect(planSnapshot(release, snapshot, mappingWith('v1-{{ incrementer }}'), ['released'])).rejects.toThrow(
      /\{\{ incrementer \}\} tags need registry reads/,
    )
  })

  it('reads nothing for a Snapshot whose image is not an allowed source, nor a tag list of a foreign target', async () => {
    const { reader, calls } = recordingReader(async () => ({}))
    const allow = { sources: ['quay.io/elsewhere/'], targets: ['quay.io/acme/shop/api'] }
    await expect(planSnapshot(release, snapshot, mappingWith('v-{{ timestamp }}'), [], allow, reader)).rejects.toThrow(
      /is not in the releaser's allowed sources/,
    )
    const sources = { sources: ['quay.io/redhat-user-workloads/'], targets: [] }
    await expect(
      planSnapshot(release, snapshot, mappingWith('v-{{ incrementer }}'), [], sources, reader),
    ).rejects.toThrow(/target quay\.io\/acme\/shop\/api is not in the releaser's allowed targets/)
    expect(calls).toEqual([])
  })

  it('passes a registry that cannot be read on as RegistryUnavailable (the webhook answers 503)', async () => {
    const { reader } = recordingReader(async () => {
      throw new RegistryUnavailable('the registry did not answer within 15 s')
    })
    await expect(
      planSnapshot(release, snapshot, mappingWith('v-{{ timestamp }}'), [], undefined, reader),
    ).rejects.toBeInstanceOf(RegistryUnavailable)
  })

  it('accepts tags that need no image config, such as {{ git_short_sha }}', async () => {
    const retags = await planSnapshot(release, snapshot, mappingWith('{{ git_short_sha }}'), ['released'])
    // The mapping's tags add to --tag (Konflux merges defaults.tags with a component's own tags).
    expect(retags.filter((r) => r.component === 'api').map((r) => r.tag)).toEqual(['released', '4f2a9c0'])
  })
})
