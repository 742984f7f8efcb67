import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { UserError } from '../cli/errors.js'
import type { FileChange } from './reconcile.js'

/** Read the given repo-relative files into memory so planning can stay synchronous and pure. */
export async function readFiles(dir: string, paths: Iterable<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  await Promise.all(
    [...new Set(paths)].map(async (path) => {
      try {
        found.set(path, await readFile(join(dir, path), 'utf8'))
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR') return
        throw new UserError(`cannot read ${join(dir, path)}: ${(error as Error).message}`)
      }
    }),
  )
  return found
}

/**
 * Write every change or none: each new text goes to a temporary file beside its target first, and only when all
 * are written are they renamed into place (a rename is atomic), then deletions run.
 */
export async function applyChanges(dir: string, changes: readonly FileChange[]): Promise<void> {
  const suffix = `.kg-tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const staged: { temp: string; target: string }[] = []
  try {
    for (const change of changes) {
      if ((change.action !== 'create' && change.action !== 'update') || change.after === undefined) continue
      const target = join(dir, change.path)
      await mkdir(dirname(target), { recursive: true })
      const temp = target + suffix
      await writeFile(temp, change.after, 'utf8')
      staged.push({ temp, target })
    }
  } catch (error) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })))
    throw new UserError(`cannot write into ${dir}: ${(error as Error).message}`, {
      hint: 'Nothing was changed. Check the directory permissions and free space, then run the command again.',
    })
  }
  for (const { temp, target } of staged) await rename(temp, target)
  for (const change of changes) {
    if (change.action !== 'delete') continue
    await rm(join(dir, change.path), { force: true })
    await removeEmptyParents(dir, dirname(change.path))
  }
}

async function removeEmptyParents(dir: string, relative: string): Promise<void> {
  let current = relative
  while (current !== '.' && current !== '' && current !== sep) {
    try {
      await rmdir(join(dir, current))
    } catch {
      return
    }
    current = dirname(current)
  }
}
