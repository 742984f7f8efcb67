import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

export interface KustomizeTool {
  /** `kubectl` (runs `kubectl kustomize DIR`) or `kustomize` (runs `kustomize build DIR`). */
  name: 'kubectl' | 'kustomize'
  path: string
}

export interface BuildOutcome {
  ok: boolean
  /** First lines of kustomize's error output. */
  error: string
}

/** kustomize on PATH first (what users pin in CI), else kubectl's embedded kustomize. */
export async function findKustomize(pathEnv = process.env.PATH ?? ''): Promise<KustomizeTool | undefined> {
  for (const name of ['kustomize', 'kubectl'] as const) {
    for (const dir of pathEnv.split(delimiter)) {
      if (!dir) continue
      const candidate = join(dir, name)
      try {
        await access(candidate, constants.X_OK)
        return { name, path: candidate }
      } catch {
        // keep looking
      }
    }
  }
  return undefined
}

/** `helm` on PATH, for Helm repos (flavour: helm): each environment is the chart plus its values file. */
export async function findHelm(pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue
    try {
      await access(join(dir, 'helm'), constants.X_OK)
      return join(dir, 'helm')
    } catch {
      // keep looking
    }
  }
  return undefined
}

/** `helm template <app> charts/<app> -f environments/<env>/values.yaml`, the Helm twin of buildOverlay. */
export function buildHelmEnvironment(
  helm: string,
  repo: string,
  app: string,
  env: string,
  timeoutMs = 120_000,
): Promise<BuildOutcome> {
  const args = ['template', app, join(repo, 'charts', app), '-f', join(repo, 'environments', env, 'values.yaml')]
  return new Promise((resolve) => {
    execFile(helm, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve({ ok: true, error: '' })
      const text = String(stderr || error.message).trim()
      resolve({ ok: false, error: text.split('\n').slice(0, 5).join('\n') })
    })
  })
}

export function buildOverlay(tool: KustomizeTool, dir: string, timeoutMs = 120_000): Promise<BuildOutcome> {
  const args = tool.name === 'kubectl' ? ['kustomize', dir] : ['build', dir]
  return new Promise((resolve) => {
    execFile(tool.path, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve({ ok: true, error: '' })
      const text = String(stderr || error.message).trim()
      resolve({ ok: false, error: text.split('\n').slice(0, 5).join('\n') })
    })
  })
}
