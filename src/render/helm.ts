import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { isMap, parseDocument } from 'yaml'
import { UserError } from '../cli/errors.js'
import { formatPinnedTag, HELM_COMPONENTS_KEY } from '../pins/index.js'
import type { RepoSpec } from '../spec/index.js'
import { findOnPath } from './kustomize.js'
import { RENDER_MARKER, type RenderedImage } from './plan.js'

const run = promisify(execFile)

/** The file `render` writes for a Helm repo, beside nothing else: `helm template -f <out>/values.yaml`. */
export const HELM_RENDER_VALUES = 'values.yaml'

/**
 * The environment's values with every component's image replaced by what the render plan decided (the
 * Snapshot's digest, else the environment's pin). Pure: the environment's values text in, the new text out.
 */
export function planHelmValues(
  spec: RepoSpec,
  snapshotName: string,
  envValues: string | undefined,
  images: readonly RenderedImage[],
  envName: string | undefined,
): string {
  const doc = parseDocument(envValues ?? '{}')
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents
  for (const image of images) {
    const tag = image.digest
      ? formatPinnedTag(spec.tag, image.digest)
      : image.image.slice(image.image.lastIndexOf(':') + 1)
    doc.setIn([HELM_COMPONENTS_KEY, image.component, 'image', 'repository'], image.repository)
    doc.setIn([HELM_COMPONENTS_KEY, image.component, 'image', 'tag'], tag)
  }
  doc.commentBefore = [
    ` Written by ${RENDER_MARKER} from Snapshot ${snapshotName}: deploys exactly its images with`,
    ` ${envName ? `environments/${envName}/values.yaml` : 'the chart defaults'}. Build it with: helm template ${spec.app} charts/${spec.app} -f <this file>`,
  ].join('\n')
  return doc.toString({ lineWidth: 0 })
}

/** `helm template` from PATH: the manifests as YAML text. */
export async function buildHelmChart(options: {
  release: string
  chartDir: string
  valuesFile: string
  namespace: string | null
}): Promise<string> {
  const helm = findOnPath('helm')
  if (!helm) {
    throw new UserError('--build on a Helm repo needs helm on PATH, and it was not found', {
      code: 'helm-missing',
      hint: 'Install Helm (v3 or v4), or drop --build and run helm template with the printed values file.',
    })
  }
  const args = ['template', options.release, options.chartDir, '-f', options.valuesFile]
  if (options.namespace) args.push('--namespace', options.namespace)
  try {
    const { stdout } = await run(helm, args, { maxBuffer: 256 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim()
    throw new UserError(`helm could not render the chart: ${stderr}`, {
      code: 'helm-failed',
      hint: `Check that the chart renders on its own: helm template ${options.release} ${options.chartDir}`,
    })
  }
}
