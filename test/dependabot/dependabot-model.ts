/**
 * Dependabot cannot run here, so this encodes its documented selection rules for `package-ecosystem: docker`
 * (see ../shared/toolchain-notes.md, from Dependabot's docker file fetcher and parser), independently of src/:
 * - only the directories listed in dependabot.yml (`directory`, or `directories` with globs), not their subfolders;
 * - in them: Dockerfiles, YAML files whose FIRST document has apiVersion and kind, and files named values*.yaml;
 * - in manifests it reads the key `image` only, and only an unquoted string;
 * - in values files the key `image` as `{registry?, repository, tag}` (or an unquoted string);
 * - never a kustomization's `images:`.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, matchesGlob } from 'node:path'
import { isMap, isPair, isScalar, isSeq, parse, parseAllDocuments, Scalar } from 'yaml'

export interface SeenImage {
  file: string
  /** `repository:tag[@digest]` as Dependabot would read it. */
  image: string
}

function listedDirectories(config: string): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: dependabot.yml is walked loosely on purpose, as Dependabot does
  const parsed = parse(config) as any
  const dirs: string[] = []
  for (const update of parsed?.updates ?? []) {
    if (update['package-ecosystem'] !== 'docker') continue
    if (typeof update.directory === 'string') dirs.push(update.directory)
    for (const d of update.directories ?? []) dirs.push(d)
  }
  return dirs
}

async function allDirs(root: string, rel = ''): Promise<string[]> {
  const out = [`/${rel}`.replace(/\/$/, '') || '/']
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== '.git')
      out.push(...(await allDirs(root, rel ? `${rel}/${entry.name}` : entry.name)))
  }
  return out
}

function isPlain(node: unknown): boolean {
  return isScalar(node) && (node.type === undefined || node.type === Scalar.PLAIN)
}

function imagesIn(node: unknown, valuesFile: boolean, out: string[]): void {
  if (isSeq(node)) for (const item of node.items) imagesIn(item, valuesFile, out)
  if (!isMap(node)) return
  for (const pair of node.items) {
    if (!isPair(pair)) continue
    const key = isScalar(pair.key) ? pair.key.value : undefined
    if (key === 'image') {
      if (isScalar(pair.value) && typeof pair.value.value === 'string' && isPlain(pair.value))
        out.push(pair.value.value)
      else if (valuesFile && isMap(pair.value)) {
        const repository = pair.value.get('repository')
        const tag = pair.value.get('tag')
        const registry = pair.value.get('registry')
        if (typeof repository === 'string' && typeof tag === 'string') {
          out.push(`${typeof registry === 'string' ? `${registry}/` : ''}${repository}:${tag}`)
        }
      }
      continue
    }
    imagesIn(pair.value, valuesFile, out)
  }
}

/** Every image reference Dependabot would see in the repo at `root`. */
export async function dependabotSees(root: string): Promise<SeenImage[]> {
  let config: string
  try {
    config = await readFile(join(root, '.github', 'dependabot.yml'), 'utf8')
  } catch {
    return []
  }
  const patterns = listedDirectories(config)
  const dirs = (await allDirs(root)).filter((dir) => patterns.some((p) => p === dir || matchesGlob(dir, p)))
  const seen: SeenImage[] = []
  for (const dir of dirs) {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      if (!entry.isFile()) continue
      const file = `${dir === '/' ? '' : dir.slice(1)}/${entry.name}`.replace(/^\//, '')
      const values = /^values.*\.ya?ml$/.test(entry.name)
      if (!values && !/\.ya?ml$/.test(entry.name)) continue
      const docs = parseAllDocuments(await readFile(join(root, file), 'utf8'))
      const list = Array.isArray(docs) ? docs : [docs]
      const first = list[0]?.contents
      if (!values && !(isMap(first) && first.has('apiVersion') && first.has('kind'))) continue
      const found: string[] = []
      for (const doc of list) imagesIn(doc.contents, values, found)
      for (const image of found) seen.push({ file, image })
    }
  }
  return seen
}
