import { matchesGlob } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO_URL_PLACEHOLDER } from '../scaffold/index.js'
import { canonicalRepoUrl, sameRepository } from './repo-url.js'
import type { CheckLine, DoctorContext } from './types.js'

interface SourceRef {
  /** `argocd/applicationset.yaml (ApplicationSet shop)` */
  where: string
  repoURL: string | undefined
  revision: string | undefined
  /** Literal paths, or glob patterns of a git directory generator. */
  paths: { path: string; glob: boolean }[]
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

function sourcesOf(spec: unknown): Obj[] {
  if (!isObj(spec)) return []
  return [...(isObj(spec.source) ? [spec.source] : []), ...list(spec.sources).filter(isObj)]
}

/** `{{ .env }}` / `{{env}}` → the element's value; undefined when a key is missing. */
function substitute(template: string, element: Obj): string | undefined {
  let missing = false
  const out = template.replace(/\{\{\s*\.?([\w.]+)\s*\}\}/g, (_m, key: string) => {
    const value = key.split('.').reduce<unknown>((node, part) => (isObj(node) ? node[part] : undefined), element)
    if (typeof value !== 'string' && typeof value !== 'number') missing = true
    return String(value)
  })
  return missing ? undefined : out
}

/** What an Application or ApplicationSet reads from git: repoURL, revision and paths. Pure. */
export function argoSources(file: string, text: string): SourceRef[] {
  const refs: SourceRef[] = []
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) {
    if ('errors' in doc && doc.errors.length > 0) continue
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown
    if (!isObj(value) || !isObj(value.spec)) continue
    const name = isObj(value.metadata) ? str(value.metadata.name) : undefined
    const where = `${file} (${String(value.kind)} ${name ?? '?'})`
    if (value.kind === 'Application') {
      for (const source of sourcesOf(value.spec)) {
        const path = str(source.path)
        refs.push({
          where,
          repoURL: str(source.repoURL),
          revision: str(source.targetRevision) ?? 'HEAD',
          paths: path === undefined ? [] : [{ path, glob: false }],
        })
      }
    } else if (value.kind === 'ApplicationSet') {
      const generators = list(value.spec.generators).filter(isObj)
      const elements = generators.flatMap((g) => (isObj(g.list) ? list(g.list.elements).filter(isObj) : []))
      for (const generator of generators) {
        if (!isObj(generator.git)) continue
        const globs = list(generator.git.directories)
          .filter(isObj)
          .filter((d) => d.exclude !== true)
          .map((d) => str(d.path))
          .filter((p): p is string => p !== undefined)
        refs.push({
          where: `${where} git generator`,
          repoURL: str(generator.git.repoURL),
          revision: str(generator.git.revision) ?? 'HEAD',
          paths: globs.map((path) => ({ path, glob: true })),
        })
      }
      const template = isObj(value.spec.template) ? value.spec.template.spec : undefined
      for (const source of sourcesOf(template)) {
        const path = str(source.path)
        let paths: SourceRef['paths'] = []
        if (path !== undefined && !path.includes('{{')) paths = [{ path, glob: false }]
        else if (path !== undefined && elements.length > 0) {
          paths = elements
            .map((element) => substitute(path, element))
            .filter((p): p is string => p !== undefined)
            .map((p) => ({ path: p, glob: false }))
        }
        // `{{ .path.path }}` comes from the git generator's directories, checked above.
        refs.push({ where, repoURL: str(source.repoURL), revision: str(source.targetRevision) ?? 'HEAD', paths })
      }
    }
  }
  return refs
}

function directoriesOf(files: readonly string[]): Set<string> {
  const dirs = new Set<string>()
  for (const file of files) {
    const parts = file.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
  }
  return dirs
}

/** Argo CD: every repoURL is this repo's remote, every revision the deploy branch, every path exists. */
export async function checkArgoCd(ctx: DoctorContext, remoteUrlValue: string | undefined): Promise<CheckLine[]> {
  const spec = ctx.spec
  if (!spec) return []
  const files = ctx.files.filter((f) => f.startsWith('argocd/') && /\.ya?ml$/.test(f))
  if (files.length === 0) {
    if (spec.argocd === 'none') {
      return [
        {
          id: 'argocd.files',
          link: 'argocd',
          status: 'ok',
          message: 'argocd: none in konflux-gitops.yaml: Argo CD objects are managed elsewhere',
          fix: null,
        },
      ]
    }
    return [
      {
        id: 'argocd.files',
        link: 'argocd',
        status: 'fail',
        message: 'no Argo CD Application or ApplicationSet under argocd/',
        fix: 'Run `npx konflux-gitops init` to write argocd/, or set `argocd: none` if Argo CD is configured elsewhere.',
      },
    ]
  }
  const refs = files.flatMap((file) => argoSources(file, ctx.readText(file) ?? ''))
  const lines: CheckLine[] = []

  const expected = remoteUrlValue ?? spec.repoURL
  const urlProblems: string[] = []
  for (const ref of refs) {
    if (ref.repoURL === undefined) urlProblems.push(`${ref.where} has no repoURL`)
    else if (sameRepository(ref.repoURL, REPO_URL_PLACEHOLDER))
      urlProblems.push(`${ref.where} still has the placeholder ${ref.repoURL}`)
    else if (expected && !sameRepository(ref.repoURL, expected)) urlProblems.push(`${ref.where} reads ${ref.repoURL}`)
  }
  if (!expected && urlProblems.length === 0) {
    lines.push({
      id: 'argocd.repo-url',
      link: 'argocd',
      status: 'warn',
      message: 'no git remote and no repoURL in konflux-gitops.yaml: cannot tell which repository Argo CD should read',
      fix: 'Add the remote (`git remote add origin URL`) and set repoURL in konflux-gitops.yaml, then re-run init.',
    })
  } else {
    lines.push({
      id: 'argocd.repo-url',
      link: 'argocd',
      status: urlProblems.length ? 'fail' : 'ok',
      message: urlProblems.length
        ? `repoURL is not this repository (${expected ?? 'unknown'}): ${urlProblems.join('; ')}`
        : `${refs.length} source(s) read ${canonicalRepoUrl(expected!)}`,
      fix: urlProblems.length
        ? `Set repoURL: ${expected ?? '<your git remote URL>'} in konflux-gitops.yaml and run \`npx konflux-gitops init\` (or edit the files under argocd/).`
        : null,
    })
  }

  const revisionProblems = refs
    .filter((ref) => ref.revision !== spec.branch && ref.revision !== `refs/heads/${spec.branch}`)
    .map((ref) => `${ref.where} follows ${ref.revision}`)
  lines.push({
    id: 'argocd.target-revision',
    link: 'argocd',
    status: revisionProblems.length ? 'fail' : 'ok',
    message: revisionProblems.length
      ? `not the deploy branch ${spec.branch}: ${revisionProblems.join('; ')}`
      : `every source follows the deploy branch ${spec.branch}`,
    fix: revisionProblems.length
      ? `Set targetRevision (and the git generator's revision) to ${spec.branch}, or set branch: in konflux-gitops.yaml and re-run init.`
      : null,
  })

  const dirs = directoriesOf(ctx.files)
  const pathProblems: string[] = []
  let checked = 0
  for (const ref of refs) {
    for (const { path, glob } of ref.paths) {
      checked++
      const clean = path.replace(/^\.\//, '').replace(/\/+$/, '')
      const exists = glob
        ? [...dirs].some((d) => matchesGlob(d, clean))
        : clean === '' || clean === '.' || dirs.has(clean)
      if (!exists) pathProblems.push(`${ref.where}: ${path}${glob ? ' matches no directory' : ' does not exist'}`)
    }
  }
  lines.push({
    id: 'argocd.paths',
    link: 'argocd',
    status: pathProblems.length ? 'fail' : 'ok',
    message: pathProblems.length ? pathProblems.join('; ') : `${checked} path(s) exist in the repository`,
    fix: pathProblems.length
      ? 'Point source.path (or the git generator directories) at existing environments/<env> directories, and commit them.'
      : null,
  })
  return lines
}
