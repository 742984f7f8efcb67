import { join } from 'node:path'
import {
  findHelm as findHelmOnPath,
  findKustomize as findKustomizeOnPath,
  helmTemplate,
  type KustomizeTool,
  kustomizeBuild,
} from '../kube-tools/index.js'

export type { KustomizeTool }

export interface BuildOutcome {
  ok: boolean
  /** First lines of kustomize's error output. */
  error: string
}

/** The kube-tools preference order (kustomize, else kubectl's embedded kustomize). */
export async function findKustomize(pathEnv = process.env.PATH ?? ''): Promise<KustomizeTool | undefined> {
  return findKustomizeOnPath(pathEnv)
}

/** `helm` on PATH, for Helm repos (flavour: helm): each environment is the chart plus its values file. */
export async function findHelm(pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  return findHelmOnPath(pathEnv)
}

/** `helm template <app> charts/<app> -f environments/<env>/values.yaml`, the Helm twin of buildOverlay. */
export async function buildHelmEnvironment(
  helm: string,
  repo: string,
  app: string,
  env: string,
  timeoutMs = 120_000,
): Promise<BuildOutcome> {
  const run = await helmTemplate(
    helm,
    { release: app, chartDir: join(repo, 'charts', app), valuesFile: join(repo, 'environments', env, 'values.yaml') },
    timeoutMs,
  )
  return { ok: run.ok, error: run.error }
}

export async function buildOverlay(tool: KustomizeTool, dir: string, timeoutMs = 120_000): Promise<BuildOutcome> {
  const run = await kustomizeBuild(tool, dir, timeoutMs)
  return { ok: run.ok, error: run.error }
}
