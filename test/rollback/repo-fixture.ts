/**
 * GitOps repos for the rollback, freeze and history tests: made by the built `init` (the real layout, ledger and
 * renovate.json), then pinned release after release as git commits, the way merged updater pull requests land.
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml'
import { expectExit, runCli } from '../helpers/cli.js'

const run = promisify(execFile)

/** Who the tests are, for git and for the `by` of a freeze (git config through the environment). */
export const IDENTITY = { name: 'Rita Release', email: 'rita@example.com' }
export const GIT_ENV: Record<string, string> = {
  GIT_CONFIG_COUNT: '2',
  GIT_CONFIG_KEY_0: 'user.name',
  GIT_CONFIG_VALUE_0: IDENTITY.name,
  GIT_CONFIG_KEY_1: 'user.email',
  GIT_CONFIG_VALUE_1: IDENTITY.email,
}

export const digest = (n: number | string) => `sha256:${String(n).padStart(64, '0')}`
export const IMAGE = { api: 'quay.io/acme/shop/api', web: 'quay.io/acme/shop/web' }

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV } })
  return stdout.trim()
}

export { expectExit }

/** konflux-gitops CLI in `dir`'s context with the test identity. */
export function cli(args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(args, { env: { ...GIT_ENV, ...env } })
}

export async function initRepo(
  dir: string,
  options: { images?: Record<string, string>; extra?: string[]; env?: Record<string, string> } = {},
): Promise<void> {
  const images = options.images ?? IMAGE
  const result = await cli(
    [
      'init',
      dir,
      '--app',
      'shop',
      ...Object.entries(images).flatMap(([name, image]) => ['--component', `${name}=${image}`]),
      '--ci',
      'none',
      ...(options.extra ?? []),
    ],
    options.env,
  )
  expectExit(result, 0)
}

/** Set `newTag: released@<digest>` for the given components in one environment's overlay (comments kept). */
export async function pinEnvironment(dir: string, env: string, pins: Record<string, string>): Promise<void> {
  const file = join(dir, 'environments', env, 'kustomization.yaml')
  const doc = parseDocument(await readFile(file, 'utf8'))
  const images = doc.get('images') as YAMLSeq<YAMLMap>
  const spec = parseDocument(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')).toJS() as {
    components: Array<{ name: string; image: string }>
  }
  for (const [component, pinned] of Object.entries(pins)) {
    const image = spec.components.find((c) => c.name === component)?.image ?? component
    const entry = images.items.find((item) => item.get('name') === image)
    if (!entry) throw new Error(`fixture: no images: entry for ${image} in ${file}`)
    entry.set('newTag', `released@${pinned}`)
  }
  await writeFile(file, doc.toString({ lineWidth: 0 }))
}

/** One release: every named environment pinned to the digests, committed as one commit; returns its id. */
export async function release(
  dir: string,
  envs: readonly string[],
  pins: Record<string, string>,
  message: string,
): Promise<string> {
  for (const env of envs) await pinEnvironment(dir, env, pins)
  await git(dir, 'commit', '-q', '-am', message)
  return git(dir, 'rev-parse', 'HEAD')
}
