import { type Document, isMap, isScalar, isSeq, YAMLSeq } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { integrationTestFiles } from '../integration/plan.js'
import { parseYamlFile, pinStoreFor, type ReadText } from '../pins/index.js'
import { autoMergeOf, type ComponentSpec, namespaceOf, type RepoSpec, renderSpec, SPEC_FILE } from '../spec/index.js'
import { renderTemplate } from './templates.js'

/** A file as the spec wants it. `merged` files are combined with the user's version; others replace it. */
export interface DesiredFile {
  readonly path: string
  readonly content: string
  readonly merged: boolean
}

export interface PlanInput {
  readonly spec: RepoSpec
  /** The spec before this change (from disk), to know which components and images left. */
  readonly previous?: RepoSpec | undefined
  /** The spec file's parsed document, so its comments and key order survive re-rendering. */
  readonly specDocument?: Document | undefined
  /** The repo's current files. */
  readonly readText: ReadText
  /** component → digest to pin in every environment now (from --pin or a Snapshot). */
  readonly pins?: ReadonlyMap<string, string>
  /** The rendered renovate.json. */
  readonly renovateConfig: string
}

/** Argo CD cannot read a repo it has no URL for; this placeholder says where to set it. */
export const REPO_URL_PLACEHOLDER = 'https://github.com/OWNER/REPO.git'

export const componentBase = (component: string) => `components/${component}/base`
const ENV_RESOURCE = /^\.\.\/\.\.\/components\/([^/]+)\/base\/?$/
const BASE_RESOURCES = ['deployment.yaml', 'service.yaml']

/** Pure: the spec and the current tree in, the files the repo should hold out. */
export function planFiles(input: PlanInput): DesiredFile[] {
  const { spec } = input
  const files: DesiredFile[] = [
    { path: SPEC_FILE, content: renderSpec(spec, input.specDocument), merged: true },
    { path: 'README.md', content: readme(spec), merged: false },
    { path: 'renovate.json', content: input.renovateConfig, merged: false },
  ]
  for (const component of spec.components) files.push(...componentFiles(spec, component, input.readText))
  const removedImages = (input.previous?.components ?? [])
    .filter((old) => !spec.components.some((c) => c.image === old.image))
    .map((old) => old.image)
  for (const env of spec.environments) {
    files.push(environmentKustomization(spec, env.name, input, removedImages))
  }
  files.push(...argocdFiles(spec))
  if (spec.ci === 'github') {
    files.push({
      path: '.github/workflows/validate.yaml',
      content: renderTemplate('github/validate.yaml', { branch: spec.branch }),
      merged: false,
    })
  }
  if (spec.integrationTest) {
    files.push(...integrationTestFiles(spec, { repoUrl: spec.repoURL ?? REPO_URL_PLACEHOLDER, revision: spec.branch }))
  }
  return files
}

function componentFiles(spec: RepoSpec, component: ComponentSpec, readText: ReadText): DesiredFile[] {
  const base = componentBase(component.name)
  const values = {
    app: spec.app,
    component: component.name,
    image: component.image,
    tag: spec.tag,
    port: component.port ?? 0,
  }
  const deployment = parseYamlFile(renderTemplate('kustomize/component/deployment.yaml', values), 'deployment.yaml')
  if (component.port === undefined) deployment.deleteIn(['spec', 'template', 'spec', 'containers', 0, 'ports'])
  const files: DesiredFile[] = [
    { path: `${base}/deployment.yaml`, content: deployment.toString({ lineWidth: 0 }), merged: false },
  ]
  if (component.port !== undefined) {
    files.push({
      path: `${base}/service.yaml`,
      content: renderTemplate('kustomize/component/service.yaml', values),
      merged: false,
    })
  }
  const kustomizationPath = `${base}/kustomization.yaml`
  const wanted = files.map((file) => file.path.slice(base.length + 1))
  const doc = parseYamlFile(
    readText(kustomizationPath) ?? renderTemplate('kustomize/component/kustomization.yaml', values),
    kustomizationPath,
  )
  mergeList(doc, 'resources', kustomizationPath, wanted, (item) => BASE_RESOURCES.includes(item))
  files.unshift({ path: kustomizationPath, content: doc.toString({ lineWidth: 0 }), merged: true })
  return files
}

function environmentKustomization(
  spec: RepoSpec,
  envName: string,
  input: PlanInput,
  removedImages: readonly string[],
): DesiredFile {
  const env = spec.environments.find((e) => e.name === envName)!
  const path = `environments/${envName}/kustomization.yaml`
  const namespace = namespaceOf(spec, env)
  const current = input.readText(path)
  const doc = parseYamlFile(
    current ??
      renderTemplate('kustomize/environment/kustomization.yaml', {
        app: spec.app,
        env: envName,
        tag: spec.tag,
        namespace,
      }),
    path,
  )
  if (doc.contents === null || !isMap(doc.contents)) {
    throw new UsageError(`${path}: must be a YAML mapping (a Kustomization)`, {
      code: 'invalid-kustomization',
      hint: `Fix ${path} or delete it and run the command again to regenerate it.`,
    })
  }
  doc.set('namespace', namespace)
  mergeList(
    doc,
    'resources',
    path,
    spec.components.map((c) => `../../${componentBase(c.name)}`),
    (item) => ENV_RESOURCE.test(item),
  )
  const merged = doc.toString({ lineWidth: 0 })
  const store = pinStoreFor(spec)
  const written = store.write(spec, envName, (p) => (p === path ? merged : input.readText(p)), {
    pins: input.pins ?? new Map(),
    removeRepositories: removedImages,
  })
  return { path, content: written.get(path) ?? merged, merged: true }
}

/**
 * Make `key` hold every wanted item, drop items this tool manages (`managed`) that are no longer wanted, and keep
 * everything else the user put there, in their order and with their comments.
 */
function mergeList(
  doc: Document,
  key: string,
  file: string,
  wanted: readonly string[],
  managed: (item: string) => boolean,
): void {
  let seq = doc.get(key, true)
  if (seq === undefined || (isScalar(seq) && seq.value === null)) {
    seq = new YAMLSeq()
    doc.set(key, seq)
  }
  if (!isSeq(seq)) {
    throw new UsageError(`${file}: ${key}: must be a list`, {
      code: 'invalid-kustomization',
      hint: `Make ${key} a YAML list in ${file}.`,
    })
  }
  const list = seq as YAMLSeq
  const normalise = (value: string) => value.replace(/\/$/, '')
  const present = new Set<string>()
  list.items = list.items.filter((item) => {
    const value = isScalar(item) ? item.value : item
    if (typeof value !== 'string') return true
    if (managed(value) && !wanted.includes(normalise(value))) return false
    present.add(normalise(value))
    return true
  })
  for (const item of wanted) if (!present.has(item)) list.items.push(doc.createNode(item))
  list.flow = false
}

function argocdFiles(spec: RepoSpec): DesiredFile[] {
  if (spec.argocd === 'none') return []
  const repoURL = spec.repoURL ?? REPO_URL_PLACEHOLDER
  const common = { app: spec.app, repoURL, branch: spec.branch }
  if (spec.argocd === 'applications') {
    return spec.environments.map((env) => ({
      path: `argocd/${env.name}.yaml`,
      content: renderTemplate('argocd/application.yaml', {
        ...common,
        env: env.name,
        namespace: namespaceOf(spec, env),
        destinationServer: env.destinationServer ?? spec.destinationServer,
      }),
      merged: false,
    }))
  }
  const uniform = spec.environments.every(
    (env) =>
      namespaceOf(spec, env) === `${spec.app}-${env.name}` &&
      (env.destinationServer ?? spec.destinationServer) === spec.destinationServer,
  )
  if (uniform) {
    return [
      {
        path: 'argocd/applicationset.yaml',
        content: renderTemplate('argocd/applicationset.yaml', { ...common, destinationServer: spec.destinationServer }),
        merged: false,
      },
    ]
  }
  const doc = parseYamlFile(renderTemplate('argocd/applicationset-list.yaml', common), 'applicationset-list.yaml')
  doc.setIn(
    ['spec', 'generators', 0, 'list', 'elements'],
    doc.createNode(
      spec.environments.map((env) => ({
        env: env.name,
        namespace: namespaceOf(spec, env),
        server: env.destinationServer ?? spec.destinationServer,
      })),
    ),
  )
  return [{ path: 'argocd/applicationset.yaml', content: doc.toString({ lineWidth: 0 }), merged: false }]
}

function readme(spec: RepoSpec): string {
  const componentList = spec.components.length
    ? spec.components
        .map((c) => `- \`${c.name}\`: \`${c.image}:${spec.tag}\`${c.port === undefined ? '' : `, port ${c.port}`}`)
        .join('\n')
    : '_None yet: add one with `npx konflux-gitops component add`._'
  const environmentList = spec.environments.length
    ? spec.environments
        .map((env) => {
          const auto = autoMergeOf(env)
          return `- \`${env.name}\`: namespace \`${namespaceOf(spec, env)}\`, ${auto ? 'Renovate merges new digests on its own' : 'a reviewer merges Renovate\u2019s pull request'}${env.frozen ? ` (frozen by ${env.frozen.by})` : ''}`
        })
        .join('\n')
    : '_None yet: add one with `npx konflux-gitops env add`._'
  return renderTemplate('repo/README.md', { app: spec.app, tag: spec.tag, componentList, environmentList })
}
