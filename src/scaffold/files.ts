import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UserError } from '../cli/errors.js'

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
