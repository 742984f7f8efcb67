/**
 * The one runner for kustomize and helm, used by `validate --build` and `render --build`: one way to find the
 * tools on PATH, one preference order, one way to run them.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

export interface KustomizeTool {
  /** `kustomize` (runs `kustomize build DIR`) or `kubectl` (runs `kubectl kustomize DIR`). */
  name: 'kubectl' | 'kustomize'
  path: string
}

export interface ToolRun {
  ok: boolean
  /** The manifests (stdout) when ok. */
  stdout: string
  /** First lines of the tool's error output when not ok. */
  error: string
}

/** First executable called `name` on PATH. Hand-written: `which` is not on every image, and this is six lines. */
export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/**
 * kustomize on PATH first (the version users pin in CI, and what Argo CD runs), else kubectl's embedded kustomize.
 * The one preference order for every command.
 */
export function findKustomize(pathEnv = process.env.PATH ?? ''): KustomizeTool | undefined {
  for (const name of ['kustomize', 'kubectl'] as const) {
    const path = findOnPath(name, pathEnv)
    if (path) return { name, path }
  }
  return undefined
}

export function findHelm(pathEnv = process.env.PATH ?? ''): string | undefined {
  return findOnPath('helm', pathEnv)
}

function runTool(command: string, args: string[], timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout: String(stdout), error: '' })
      const text = String(stderr || error.message).trim()
      resolve({ ok: false, stdout: '', error: text.split('\n').slice(0, 5).join('\n') })
    })
  })
}

/** `kustomize build DIR` or `kubectl kustomize DIR`. */
export function kustomizeBuild(tool: KustomizeTool, dir: string, timeoutMs = 120_000): Promise<ToolRun> {
  return runTool(tool.path, tool.name === 'kubectl' ? ['kustomize', dir] : ['build', dir], timeoutMs)
}

/** `helm template RELEASE CHART -f VALUES [--namespace NS]`. */
export function helmTemplate(
  helm: string,
  options: { release: string; chartDir: string; valuesFile: string; namespace?: string | null },
  timeoutMs = 120_000,
): Promise<ToolRun> {
  const args = ['template', options.release, options.chartDir, '-f', options.valuesFile]
  if (options.namespace) args.push('--namespace', options.namespace)
  return runTool(helm, args, timeoutMs)
}
