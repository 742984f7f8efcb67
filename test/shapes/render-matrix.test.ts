/**
 * `render --build` of an untested Snapshot on every repo shape (kustomize | helm) x (renovate | dependabot): every
 * object lands in the --namespace given, and the Snapshot's images deploy as repository@sha256:<digest> (no tag
 * claims them yet), whichever way the shape pins. Real init, real kubectl kustomize and helm template.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { kubeTools } from '../harness/kube-tools.js'
import { ROOT, runCli, withTempDir } from '../helpers/cli.js'

const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const REPO = 'quay.io/redhat-user-workloads/acme-tenant/shop'
const PASSED_API = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'
const UNTESTED_API = `sha256:${'1'.repeat(64)}`

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
  { flavour: 'helm', updater: 'dependabot' },
] as const

interface K8sObject {
  kind: string
  metadata: { name: string; namespace?: string }
  spec?: { template?: { spec?: { containers?: { name: string; image: string }[] } } }
}

describe.each(SHAPES)('render --build on $flavour + $updater', ({ flavour, updater }) => {
  it('puts every object in --namespace and deploys the untested digest as repo@sha256:', async () => {
    await withTempDir(async (tmp) => {
      const { kubectl, helm } = await kubeTools()
      const env = { PATH: `${dirname(kubectl)}:${dirname(helm)}:${process.env.PATH}` }
      const init = await runCli(
        ['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--flavour', flavour, '--updater', updater],
        { cwd: tmp },
      )
      expect(init.exitCode, init.stderr).toBe(0)
      const untested = join(tmp, 'untested.yaml')
      await writeFile(untested, (await readFile(SNAPSHOT, 'utf8')).replace(PASSED_API, UNTESTED_API))

      const result = await runCli(
        [
          'render',
          join(tmp, 'demo'),
          '--snapshot',
          untested,
          '--env',
          'prod',
          '--namespace',
          'review-42',
          '--build',
          '--json',
        ],
        { env },
      )
      expect(result.exitCode, result.stderr + result.stdout).toBe(0)
      const rendered = result.json as { namespace: string; manifests: string; warnings: string[] }
      expect(rendered.namespace).toBe('review-42')
      expect(rendered.warnings).toEqual([])
      const objects = parseAllDocuments(rendered.manifests)
        .map((doc) => doc.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null)
      expect(
        objects
          .filter((o) => o.kind === 'Deployment')
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(['api', 'web'])
      for (const object of objects)
        expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe('review-42')
      const image = (name: string) =>
        objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)?.spec?.template?.spec?.containers?.[0]
          ?.image
      expect(image('api')).toBe(`${REPO}/api@${UNTESTED_API}`)
      expect(image('web')).toMatch(new RegExp(`^${REPO.replaceAll('.', '\\.')}/web@sha256:[0-9a-f]{64}$`))
    })
  })
})
