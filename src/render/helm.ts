import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMap, parseAllDocuments, parseDocument } from 'yaml'
import { UserError } from '../cli/errors.js'
import { findHelm, helmTemplate } from '../kube-tools/index.js'
import { formatPinnedTag, HELM_COMPONENTS_KEY } from '../pins/index.js'
import type { RepoSpec } from '../spec/index.js'
import { RENDER_MARKER, type RenderedImage } from './plan.js'

/** The file `render` writes for a Helm repo, beside nothing else: `helm template -f <out>/values.yaml`. */
export const HELM_RENDER_VALUES = 'values.yaml'

/** What the chart's image line does with a tag of the form `sha256:<hex>`: `repo@sha256:` (the chart init writes). */
const DIGEST_ONLY_MARKER = 'hasPrefix "sha256:"'

/**
 * Does the repo's chart render `tag: "sha256:<hex>"` as `repository@sha256:<hex>`? Charts written before it did
 * render `repository:tag`, so an untested Snapshot digest then rides on the release tag's name.
 */
export function chartTakesDigestOnly(chartDir: string): boolean {
  try {
    return readFileSync(join(chartDir, 'templates', 'deployment.yaml'), 'utf8').includes(DIGEST_ONLY_MARKER)
  } catch {
    return false
  }
}

/**
 * The environment's values with every component's image replaced by what the render plan decided (the
 * Snapshot's digest, else the environment's pin). A Snapshot's digest has not been tagged yet, so it is written
 * without a tag (`tag: "sha256:<hex>"`, rendered `repository@sha256:<hex>` as kustomize does) when the chart takes
 * that form. Pure: the environment's values text in, the new text out.
 */
export function planHelmValues(
  spec: RepoSpec,
  snapshotName: string,
  envValues: string | undefined,
  images: readonly RenderedImage[],
  envName: string | undefined,
  digestOnly = true,
): string {
  const doc = parseDocument(envValues ?? '{}')
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents
  for (const image of images) {
    const written = image.image.startsWith(`${image.repository}:`)
      ? image.image.slice(image.repository.length + 1)
      : undefined
    let tag: string
    if (image.source === 'snapshot' && image.digest)
      tag = digestOnly ? image.digest : formatPinnedTag(spec.tag, image.digest)
    else tag = written ?? (image.digest ? formatPinnedTag(spec.tag, image.digest) : spec.tag)
    doc.setIn([HELM_COMPONENTS_KEY, image.component, 'image', 'repository'], image.repository)
    doc.setIn([HELM_COMPONENTS_KEY, image.component, 'image', 'tag'], tag)
  }
  doc.commentBefore = [
    ` Written by ${RENDER_MARKER} from Snapshot ${snapshotName}: deploys exactly its images with`,
    ` ${envName ? `environments/${envName}/values.yaml` : 'the chart defaults'}. Build it with: helm template ${spec.app} charts/${spec.app} -f <this file>`,
  ].join('\n')
  return doc.toString({ lineWidth: 0 })
}

/**
 * Kinds kustomize's namespace transformer leaves alone because they are cluster-scoped. Hand-written: the list
 * is short and fixed, and asking a cluster (kubectl api-resources) is not possible offline.
 */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'Node',
  'ClusterIssuer',
])

/**
 * Set metadata.namespace on every namespaced object, as kustomize's `namespace:` does: `helm template
 * --namespace` only sets .Release.Namespace, which the chart's objects need not use.
 */
export function withNamespace(manifests: string, namespace: string): string {
  const docs = parseAllDocuments(manifests)
  const list = Array.isArray(docs) ? docs : []
  const out: string[] = []
  for (const doc of list) {
    if (doc.errors.length > 0) return manifests // not ours to fix: hand back what helm printed
    if (isMap(doc.contents)) {
      const kind = doc.get('kind')
      if (typeof kind === 'string' && !CLUSTER_SCOPED.has(kind)) doc.setIn(['metadata', 'namespace'], namespace)
    }
    out.push(doc.toString({ lineWidth: 0 }))
  }
  return out.map((text) => (text.startsWith('---') ? text : `---\n${text}`)).join('')
}

/** `helm template` from PATH (the kube-tools runner): the manifests, in the namespace when one is given. */
export async function buildHelmChart(options: {
  release: string
  chartDir: string
  valuesFile: string
  namespace: string | null
}): Promise<string> {
  const helm = findHelm()
  if (!helm) {
    throw new UserError('--build on a Helm repo needs helm on PATH, and it was not found', {
      code: 'helm-missing',
      hint: 'Install Helm (v3 or v4), or drop --build and run helm template with the printed values file.',
    })
  }
  const run = await helmTemplate(helm, options)
  if (!run.ok) {
    throw new UserError(`helm could not render the chart: ${run.error}`, {
      code: 'helm-failed',
      hint: `Check that the chart renders on its own: helm template ${options.release} ${options.chartDir}`,
    })
  }
  return options.namespace ? withNamespace(run.stdout, options.namespace) : run.stdout
}
