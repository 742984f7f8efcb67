/**
 * The read-only view of a repository the checks work on. The checks never touch the file system: the fs adapter
 * (fs-tree.ts) or a test builds this, so the core stays pure and fast to test.
 */
export type TreeEntry =
  | { kind: 'text'; text: string }
  /** Present, but not a file validate reads (not YAML/JSON): only its existence matters. */
  | { kind: 'other' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'symlink-outside'; target: string }

export interface RepoTree {
  /** Files by path relative to the root, forward slashes, no leading "./". */
  readonly files: ReadonlyMap<string, TreeEntry>
  /** Every directory that exists, including "" for the root. */
  readonly dirs: ReadonlySet<string>
}

/** YAML and JSON files validate parses; everything else is only listed. */
export function isConfigFile(path: string): boolean {
  return /\.(ya?ml|json|json5|jsonc)$/i.test(path) || /(^|\/)\.renovaterc$/.test(path)
}

export function parentDirs(path: string): string[] {
  const parts = path.split('/')
  const out = ['']
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'))
  return out
}

/** A tree from file contents, for tests and benchmarks. */
export function memoryTree(files: Record<string, string | TreeEntry>, extraDirs: string[] = []): RepoTree {
  const entries = new Map<string, TreeEntry>()
  const dirs = new Set<string>([''])
  for (const [path, content] of Object.entries(files)) {
    entries.set(path, typeof content === 'string' ? { kind: 'text', text: content } : content)
    for (const dir of parentDirs(path)) dirs.add(dir)
  }
  for (const dir of extraDirs) for (const d of [...parentDirs(dir), dir]) dirs.add(d)
  return { files: entries, dirs }
}
