import { matchesGlob } from 'node:path'
import { repository, tryParseImageRef } from '../image-ref/index.js'
import { kustomizationFiles } from './check-layout.js'
import { type CheckContext, isRecord, joinRepoPath } from './context.js'
import { imagePolicyOf, registryAllowed } from './image-policy.js'
import { locate, type ParsedFile } from './yaml-docs.js'

type Validator = (value: unknown) => { instancePath: string; message?: string }[]

const modelCache = new Map<string, Promise<Validator | null>>()

interface ModelClass {
  new (data: unknown): { validate(): void }
}

/**
 * kubernetes-models ships one module per kind (`kubernetes-models/apps/v1/Deployment`), each with a precompiled
 * validator: importing only the kinds a repo uses keeps start-up cheap. Unknown kinds (CRDs) return null.
 */
function modelValidator(apiVersion: string, kind: string): Promise<Validator | null> {
  const key = `${apiVersion}/${kind}`
  let cached = modelCache.get(key)
  if (!cached) {
    cached = (async () => {
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion]
      // The specifier is built from file content: allow only the shapes API groups and kinds have.
      if (!/^[A-Z][A-Za-z0-9]*$/.test(kind) || !/^v\d+[a-z0-9]*$/.test(version ?? '')) return null
      if (group && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(group)) return null
      const specifier =
        group === 'argoproj.io'
          ? `@kubernetes-models/argo-cd/argoproj.io/${version}/${kind}`
          : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`
      let module: Record<string, unknown>
      try {
        module = (await import(specifier)) as Record<string, unknown>
      } catch {
        return null
      }
      const Model = module[kind] as ModelClass | undefined
      if (typeof Model !== 'function') return null
      return (value: unknown) => {
        try {
          new Model(value).validate()
          return []
        } catch (error) {
          const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors
          if (Array.isArray(errors)) return errors
          return [{ instancePath: '', message: (error as Error).message }]
        }
      }
    })()
    modelCache.set(key, cached)
  }
  return cached
}

interface ObjectDoc {
  path: string
  file: ParsedFile
  index: number
  value: Record<string, unknown>
  apiVersion: string
  kind: string
}

/** Files some kustomization applies as a patch: partial objects, so no schema check and they tag base images. */
function patchFiles(ctx: CheckContext): Set<string> {
  const patches = new Set<string>()
  for (const [path, file] of kustomizationFiles(ctx)) {
    const value = file.docs[0]?.value
    if (!isRecord(value)) continue
    const dir = path.slice(0, path.lastIndexOf('/'))
    const entries = [
      ...(Array.isArray(value.patches) ? value.patches : []),
      ...(Array.isArray(value.patchesStrategicMerge) ? value.patchesStrategicMerge : []),
    ]
    for (const entry of entries) {
      const relative = typeof entry === 'string' ? entry : isRecord(entry) ? entry.path : undefined
      if (typeof relative !== 'string') continue
      const joined = joinRepoPath(dir, relative)
      if (joined !== undefined) patches.add(joined)
    }
  }
  return patches
}

function objectDocs(ctx: CheckContext): ObjectDoc[] {
  const out: ObjectDoc[] = []
  const patches = patchFiles(ctx)
  for (const [path, file] of ctx.yaml) {
    if (path.startsWith('.github/') || path === 'konflux-gitops.yaml' || patches.has(path)) continue
    // An image patch no kustomization lists is a partial object too (image-patch-unreferenced reports it).
    if (ctx.spec?.updater === 'dependabot' && /^environments\/[^/]+\/images\/[^/]+\.ya?ml$/.test(path)) continue
    file.docs.forEach((doc, index) => {
      const value = doc.value
      if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return
      if (value.apiVersion.startsWith('kustomize.config.k8s.io/')) return
      out.push({ path, file, index, value, apiVersion: value.apiVersion, kind: value.kind })
    })
  }
  return out
}

function pointerPath(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => {
      const part = p.replaceAll('~1', '/').replaceAll('~0', '~')
      return /^\d+$/.test(part) ? Number(part) : part
    })
}

async function checkSchemas(ctx: CheckContext, docs: ObjectDoc[]): Promise<void> {
  const wantK8s = ctx.enabled('k8s-schema')
  const wantArgo = ctx.enabled('argocd-schema')
  if (!wantK8s && !wantArgo) return
  const validators = new Map<string, Validator | null>()
  await Promise.all(
    [...new Set(docs.map((d) => `${d.apiVersion}\n${d.kind}`))].map(async (key) => {
      const [apiVersion = '', kind = ''] = key.split('\n')
      validators.set(key, await modelValidator(apiVersion, kind))
    }),
  )
  for (const doc of docs) {
    const isArgo = doc.apiVersion.startsWith('argoproj.io/')
    if (isArgo ? !wantArgo : !wantK8s) continue
    const validate = validators.get(`${doc.apiVersion}\n${doc.kind}`)
    if (!validate) continue
    const seen = new Set<string>()
    for (const error of validate(doc.value)) {
      const path = pointerPath(error.instancePath)
      const where = path.length > 0 ? path.join('.') : '(object)'
      const message = `${doc.kind} ${where} ${error.message ?? 'is invalid'}`
      if (seen.has(message)) continue
      seen.add(message)
      ctx.report(isArgo ? 'argocd-schema' : 'k8s-schema', doc.path, locate(doc.file, doc.index, path), message)
    }
  }
}

function podSpecPath(kind: string): string[] | undefined {
  switch (kind) {
    case 'Pod':
      return ['spec']
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
    case 'ReplicationController':
      return ['spec', 'template', 'spec']
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template', 'spec']
    default:
      return undefined
  }
}

function getIn(value: unknown, path: readonly string[]): unknown {
  let node = value
  for (const key of path) node = isRecord(node) ? node[key] : undefined
  return node
}

/** Image names that some kustomization rewrites: a base may leave those untagged on purpose. */
function overriddenImageNames(ctx: CheckContext): Set<string> {
  const names = new Set<string>()
  for (const [, file] of kustomizationFiles(ctx)) {
    const value = file.docs[0]?.value
    const images = isRecord(value) ? value.images : undefined
    if (!Array.isArray(images)) continue
    for (const entry of images) if (isRecord(entry) && typeof entry.name === 'string') names.add(entry.name)
  }
  // An image patch sets the whole reference of its container: the base may leave that image untagged.
  for (const path of patchFiles(ctx)) {
    for (const doc of ctx.yaml.get(path)?.docs ?? []) {
      const containers = getIn(doc.value, ['spec', 'template', 'spec', 'containers'])
      if (!Array.isArray(containers)) continue
      for (const container of containers) {
        if (!isRecord(container) || typeof container.image !== 'string') continue
        const ref = tryParseImageRef(container.image)
        if (ref) names.add(repository(ref))
      }
    }
  }
  return names
}

function checkManifestImages(ctx: CheckContext, docs: ObjectDoc[]): void {
  const policy = imagePolicyOf(ctx)
  const overridden = overriddenImageNames(ctx)
  const componentRepos = new Set(
    (ctx.spec?.components ?? []).map((c) => {
      const ref = tryParseImageRef(c.image)
      return ref ? repository(ref) : c.image
    }),
  )
  for (const doc of docs) {
    const podPath = podSpecPath(doc.kind)
    if (!podPath) continue
    const podSpec = getIn(doc.value, podPath)
    if (!isRecord(podSpec)) continue
    for (const listKey of ['initContainers', 'containers', 'ephemeralContainers']) {
      const containers = podSpec[listKey]
      if (!Array.isArray(containers)) continue
      containers.forEach((container, index) => {
        if (!isRecord(container) || typeof container.image !== 'string') return
        const image = container.image
        const position = locate(doc.file, doc.index, [...podPath, listKey, index, 'image'])
        const ref = tryParseImageRef(image)
        if (!ref) return // the schema check or kustomize reports a malformed image
        if (ref.tag === 'latest') {
          ctx.report(
            'image-latest',
            doc.path,
            position,
            `${image} uses the tag latest; use "${policy.tag}" pinned by digest`,
          )
          return
        }
        const repo = repository(ref)
        const untaggedName = image.replace(/[@:][^/]*$/, '')
        if (overridden.has(image) || overridden.has(untaggedName) || overridden.has(repo)) return
        if (!registryAllowed(policy, repo)) {
          ctx.report(
            'image-registry-not-allowed',
            doc.path,
            position,
            `${repo} is outside the allowed registries (${policy.prefixes.join(', ')})`,
          )
        }
        if (ref.tag === undefined && ref.digest === undefined) {
          ctx.report(
            'image-untagged',
            doc.path,
            position,
            `${image} has neither tag nor digest and no overlay sets one`,
          )
        } else if (componentRepos.has(repo) && ref.tag !== undefined && ref.tag !== policy.tag) {
          ctx.report(
            'image-tag-policy',
            doc.path,
            position,
            `${image} uses tag "${ref.tag}"; this repo deploys "${policy.tag}"`,
          )
        } else if (ref.digest === undefined && !policy.allowUnpinned) {
          ctx.report('image-unpinned', doc.path, position, `${image} is not pinned by digest`)
        }
      })
    }
  }
}

function isTemplated(path: string): boolean {
  return path.includes('{{')
}

function checkArgoPaths(ctx: CheckContext, docs: ObjectDoc[]): void {
  if (!ctx.enabled('argocd-path-missing')) return
  const dirs = [...ctx.tree.dirs]
  const pathExists = (path: string) => {
    const normalised = joinRepoPath('', path)
    return normalised !== undefined && (ctx.tree.dirs.has(normalised) || ctx.tree.files.has(normalised))
  }
  const normaliseUrl = (url: string) =>
    url
      .toLowerCase()
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
  const thisRepo = ctx.spec?.repoURL ? normaliseUrl(ctx.spec.repoURL) : undefined
  const checkSource = (doc: ObjectDoc, source: unknown, at: (string | number)[]) => {
    if (!isRecord(source) || typeof source.path !== 'string' || source.chart !== undefined) return
    // A source in another repository (known once the spec names this one) is not ours to check.
    if (thisRepo && typeof source.repoURL === 'string' && !isTemplated(source.repoURL)) {
      if (normaliseUrl(source.repoURL) !== thisRepo) return
    }
    if (isTemplated(source.path) || pathExists(source.path)) return
    ctx.report(
      'argocd-path-missing',
      doc.path,
      locate(doc.file, doc.index, [...at, 'path']),
      `${doc.kind} ${String(getIn(doc.value, ['metadata', 'name']) ?? '')} points at "${source.path}", which does not exist`,
    )
  }
  for (const doc of docs) {
    if (!doc.apiVersion.startsWith('argoproj.io/')) continue
    if (doc.kind === 'Application') {
      const spec = doc.value.spec
      if (!isRecord(spec)) continue
      checkSource(doc, spec.source, ['spec', 'source'])
      if (Array.isArray(spec.sources)) {
        spec.sources.forEach((s, i) => {
          checkSource(doc, s, ['spec', 'sources', i])
        })
      }
    } else if (doc.kind === 'ApplicationSet') {
      const spec = doc.value.spec
      if (!isRecord(spec)) continue
      const template = getIn(spec, ['template', 'spec'])
      if (isRecord(template)) {
        checkSource(doc, template.source, ['spec', 'template', 'spec', 'source'])
        // A Helm repo's ApplicationSet has two sources: the chart folder and the values ($values).
        if (Array.isArray(template.sources)) {
          template.sources.forEach((s, i) => {
            checkSource(doc, s, ['spec', 'template', 'spec', 'sources', i])
          })
        }
      }
      const generators = Array.isArray(spec.generators) ? spec.generators : []
      generators.forEach((generator, g) => {
        const directories = getIn(generator, ['git', 'directories'])
        if (!Array.isArray(directories)) return
        directories.forEach((entry, d) => {
          if (!isRecord(entry) || typeof entry.path !== 'string' || entry.exclude === true) return
          const pattern = entry.path
          const matched = dirs.some((dir) => dir !== '' && (dir === pattern || matchesGlob(dir, pattern)))
          if (matched) return
          ctx.report(
            'argocd-path-missing',
            doc.path,
            locate(doc.file, doc.index, ['spec', 'generators', g, 'git', 'directories', d, 'path']),
            `git directory generator path "${pattern}" matches no directory in the repository`,
          )
        })
      })
    }
  }
}

export async function checkManifests(ctx: CheckContext): Promise<void> {
  const docs = objectDocs(ctx)
  await checkSchemas(ctx, docs)
  checkManifestImages(ctx, docs)
  checkArgoPaths(ctx, docs)
}
