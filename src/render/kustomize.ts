import { UserError } from '../cli/errors.js'
import { findKustomize, kustomizeBuild } from '../kube-tools/index.js'

export { findOnPath } from '../kube-tools/index.js'

/** `kustomize build DIR` (or `kubectl kustomize DIR`), in the kube-tools preference order: the manifests as YAML. */
export async function buildKustomization(dir: string): Promise<string> {
  const tool = findKustomize()
  if (!tool) {
    throw new UserError('--build needs kubectl or kustomize on PATH, and neither was found', {
      code: 'kustomize-missing',
      hint: 'Install kubectl (it includes kustomize), or drop --build and run kubectl apply -k on the printed folder.',
    })
  }
  const run = await kustomizeBuild(tool, dir)
  if (run.ok) return run.stdout
  throw new UserError(`kustomize could not build the rendered overlay: ${run.error}`, {
    code: 'kustomize-failed',
    hint: 'Check that the environment overlay builds on its own: kubectl kustomize environments/<env>',
  })
}
