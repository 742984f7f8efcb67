import type { Dirent } from 'node:fs'
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { UsageError } from '../cli/errors.js'
import { isConfigFile, type RepoTree, type TreeEntry } from './tree.js'

/** Larger YAML is not a hand-kept manifest; parsing it would only make CI slow. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024
const SKIPPED_DIRS = new Set(['.git', 'node_modules'])
const READ_CONCURRENCY = 64

const utf8 = new TextDecoder('utf-8', { fatal: true })

async function readText(path: string, size: number): Promise<TreeEntry> {
  if (size > MAX_FILE_BYTES) {
    return {
      kind: 'unreadable',
      reason: `file is ${(size / 1024 / 1024).toFixed(1)} MiB; validate reads at most 4 MiB`,
    }
  }
  let bytes: Buffer
  const handle = await open(path, 'r')
  try {
    // Read at most the cap even if the file grows between stat and read.
    const buffer = Buffer.alloc(Math.min(size, MAX_FILE_BYTES) + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    if (bytesRead > MAX_FILE_BYTES) return { kind: 'unreadable', reason: 'file is larger than 4 MiB' }
    bytes = buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
  if (bytes.includes(0)) return { kind: 'unreadable', reason: 'binary file (contains NUL bytes), not YAML/JSON text' }
  try {
    return { kind: 'text', text: utf8.decode(bytes) }
  } catch {
    return { kind: 'unreadable', reason: 'not valid UTF-8 text' }
  }
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target)
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..')
}

/** The fs edge: list the repository and read its YAML/JSON files into a RepoTree. */
export async function readRepoTree(dir: string): Promise<RepoTree> {
  let root: string
  try {
    root = await realpath(dir)
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory')
  } catch (error) {
    throw new UsageError(`cannot validate ${dir}: ${(error as Error).message}`, {
      hint: 'Pass the path of the GitOps repository (the directory holding konflux-gitops.yaml).',
    })
  }
  const files = new Map<string, TreeEntry>()
  const dirs = new Set<string>([''])
  const toRead: { rel: string; abs: string; size: number }[] = []

  const walk = async (relDir: string): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(join(root, relDir), { withFileTypes: true })
    } catch (error) {
      files.set(relDir, { kind: 'unreadable', reason: `cannot list directory: ${(error as Error).message}` })
      return
    }
    const subdirs: string[] = []
    for (const entry of entries) {
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`
      const abs = join(root, rel)
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.has(entry.name)) continue
        dirs.add(rel)
        subdirs.push(rel)
      } else if (entry.isSymbolicLink()) {
        let target: string
        try {
          target = await realpath(abs)
        } catch {
          files.set(rel, { kind: 'unreadable', reason: 'broken symbolic link' })
          continue
        }
        if (!isInside(root, target)) {
          files.set(rel, { kind: 'symlink-outside', target })
          continue
        }
        const info = await stat(target)
        // A link to a directory inside the repo is listed but not followed: following could loop.
        if (info.isDirectory()) dirs.add(rel)
        else if (isConfigFile(rel)) toRead.push({ rel, abs: target, size: info.size })
        else files.set(rel, { kind: 'other' })
      } else if (entry.isFile()) {
        if (isConfigFile(rel)) toRead.push({ rel, abs, size: (await lstat(abs)).size })
        else files.set(rel, { kind: 'other' })
      }
    }
    await Promise.all(subdirs.map(walk))
  }
  await walk('')

  for (let i = 0; i < toRead.length; i += READ_CONCURRENCY) {
    await Promise.all(
      toRead.slice(i, i + READ_CONCURRENCY).map(async ({ rel, abs, size }) => {
        try {
          files.set(rel, await readText(abs, size))
        } catch (error) {
          files.set(rel, { kind: 'unreadable', reason: `cannot read: ${(error as Error).message}` })
        }
      }),
    )
  }
  return { files, dirs }
}
