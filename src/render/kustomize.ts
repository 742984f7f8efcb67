import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { UserError } from '../cli/errors.js'

const run = promisify(execFile)

/** First executable called `name` on PATH. Hand-written: `which` is not on every image, and this is six lines. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** `kubectl kustomize DIR` (or `kustomize build DIR`) from PATH: the manifests as YAML text. */
export async function buildKustomization(dir: string): Promise<string> {
  const kubectl = findOnPath('kubectl')
  const kustomize = kubectl ? undefined : findOnPath('kustomize')
  if (!kubectl && !kustomize) {
    throw new UserError('--build needs kubectl or kustomize on PATH, and neither was found', {
      code: 'kustomize-missing',
      hint: 'Install kubectl (it includes kustomize), or drop --build and run kubectl apply -k on the printed folder.',
    })
  }
  const [command, args] = kubectl ? [kubectl, ['kustomize', dir]] : [kustomize!, ['build', dir]]
  try {
    const { stdout } = await run(command, args, { maxBuffer: 256 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim()
    throw new UserError(`kustomize could not build the rendered overlay: ${stderr}`, {
      code: 'kustomize-failed',
      hint: 'Check that the environment overlay builds on its own: kubectl kustomize environments/<env>',
    })
  }
}
