import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, symlink } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { ROOT } from './cli.js'

export interface PackedInstall {
  /** Where the package was unpacked: `<dir>/node_modules/konflux-gitops`. */
  packageDir: string
  /** Its bin/run.js. */
  bin: string
  /** Every path `npm pack` put in the tarball, relative to the package root. */
  files: string[]
  /** Production dependencies linked next to it (top-level names). */
  dependencies: string[]
}

/**
 * The package as a user gets it, without a registry: `npm pack` of this checkout (the dist/ global-setup built),
 * unpacked into `<dir>/node_modules/konflux-gitops`, with its production dependency tree (`npm ls --omit=dev`) linked
 * beside it from this checkout's node_modules. Optional peers (renovate, @kubernetes/client-node) are devDependencies
 * here, so they are absent, as in a default install; `add` links some of them in, as a user installing them would.
 */
export async function installPacked(dir: string, add: string[] = []): Promise<PackedInstall> {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>
  const tarball = join(dir, packed[0]!.filename)
  const modules = join(dir, 'node_modules')
  const packageDir = join(modules, 'konflux-gitops')
  await mkdir(packageDir, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1'])

  // `npm ls` exits 1 over dev-tree trouble (an invalid peer, an extraneous package) that does not matter here.
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
  const ownModules = join(ROOT, 'node_modules')
  const topLevel = new Set(
    listed.stdout
      .split('\n')
      .filter((line) => line.startsWith(ownModules + sep))
      .map((line) => relative(ownModules, line).split(sep))
      .map((parts) => (parts[0]!.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')),
  )
  for (const name of add) topLevel.add(name)
  // A linked package resolves its own dependencies from its real path, in this checkout; konflux-gitops resolves
  // from <dir>/node_modules, which holds only what is linked here.
  for (const name of topLevel) {
    const target = join(modules, name)
    await mkdir(dirname(target), { recursive: true })
    await symlink(join(ownModules, name), target, 'dir')
  }
  return {
    packageDir,
    bin: join(packageDir, 'bin', 'run.js'),
    files: packed[0]!.files.map((f) => f.path),
    dependencies: [...topLevel].sort(),
  }
}
