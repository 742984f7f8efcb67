import { isMap, isSeq } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { imagePatchDir, imagePatchPath, parseYamlFile, pinStoreFor, type ReadText } from '../pins/index.js'
import { type ComponentSpec, namespaceOf, type RepoSpec } from '../spec/index.js'
import { argocdFiles } from './argocd.js'
import type { DesiredFile, PlanInput } from './plan.js'
import type { FlavourPlanner } from './shape.js'
import { renderTemplate } from './templates.js'
import { mergeList } from './yaml-merge.js'

export const componentBase = (component: string) => `components/${component}/base`
const ENV_RESOURCE = /^\.\.\/\.\.\/components\/([^/]+)\/base\/?$/
const IMAGE_PATCH = /^images\/[^/]+\.ya?ml$/
const BASE_RESOURCES = ['deployment.yaml', 'service.yaml']
const PART_OF = 'app.kubernetes.io/part-of'

const environmentKustomizationPath = (env: string) => `environments/${env}/kustomization.yaml`

/** A kustomize base per component, an overlay per environment (pins by the updater's pin store), Argo CD on it. */
export const kustomizeFlavour: FlavourPlanner = {
  mergedPaths(spec) {
    return [
      ...spec.components.map((c) => `${componentBase(c.name)}/kustomization.yaml`),
      ...spec.environments.map((e) => environmentKustomizationPath(e.name)),
    ]
  },

  files(input, removedImages) {
    const { spec } = input
    const files: DesiredFile[] = []
    for (const component of spec.components) files.push(...componentFiles(spec, component, input.readText))
    for (const env of spec.environments) files.push(...environmentFiles(spec, env.name, input, removedImages))
    files.push(...argocdFiles(spec, 'argocd'))
    return files
  },

  readme(spec) {
    const patches = pinStoreFor(spec).shape === 'manifest-patches'
    return {
      pinForm: patches
        ? `\`image: <repository>:${spec.tag}@sha256:…\` in \`environments/<env>/images/<component>.yaml\``
        : `\`newTag: ${spec.tag}@sha256:…\``,
      pinField: patches ? '`image:`' : '`newTag`',
      pinFile: patches ? '`images/<component>.yaml`' : '`kustomization.yaml`',
      mergedNote: 'Lists in `kustomization.yaml` files are merged.',
      layoutList: [
        '- `components/<component>/base/`: Deployment (and Service) of each component, image without tag.',
        patches
          ? '- `environments/<env>/kustomization.yaml`: namespace, the bases and the image patches;\n' +
            '  `environments/<env>/images/<component>.yaml`: the image pin Dependabot updates (keep `image:` unquoted).'
          : '- `environments/<env>/kustomization.yaml`: namespace, the bases, and the image pins Renovate updates.',
      ].join('\n'),
    }
  },
}

function componentFiles(spec: RepoSpec, component: ComponentSpec, readText: ReadText): DesiredFile[] {
  const base = componentBase(component.name)
  const values = {
    app: spec.app,
    component: component.name,
    image: component.image,
    tag: spec.tag,
    port: component.port ?? 0,
    pinFile:
      pinStoreFor(spec).shape === 'manifest-patches'
        ? `environments/<env>/images/${component.name}.yaml`
        : 'its kustomization.yaml',
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
  // The part-of label names the app: a renamed app relabels every base.
  const labels = doc.get('labels', true)
  if (isSeq(labels)) {
    for (const item of labels.items) {
      const pairs = isMap(item) ? item.get('pairs', true) : undefined
      if (isMap(pairs) && pairs.has(PART_OF)) pairs.set(PART_OF, spec.app)
    }
  }
  files.unshift({ path: kustomizationPath, content: doc.toString({ lineWidth: 0 }), merged: true })
  return files
}

function environmentFiles(
  spec: RepoSpec,
  envName: string,
  input: PlanInput,
  removedImages: readonly string[],
): DesiredFile[] {
  const env = spec.environments.find((e) => e.name === envName)!
  const path = environmentKustomizationPath(envName)
  const namespace = namespaceOf(spec, env)
  const current = input.readText(path)
  const store = pinStoreFor(spec)
  const doc = parseYamlFile(
    current ??
      renderTemplate('kustomize/environment/kustomization.yaml', {
        app: spec.app,
        env: envName,
        tag: spec.tag,
        namespace,
        pinNote:
          store.shape === 'manifest-patches'
            ? 'Dependabot opens pull requests that move the image: pins in images/ to the'
            : 'Renovate opens pull requests that move the images: pins below to the',
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
  if (store.shape === 'manifest-patches') {
    // Dependabot never reads `images:`, and an images: entry would override the patched image: only patches.
    const images = doc.get('images', true)
    if (isSeq(images)) {
      const managed = new Set([...spec.components.map((c) => c.image), ...removedImages])
      images.items = images.items.filter((item) => !(isMap(item) && managed.has(String(item.get('name')))))
      if (images.items.length === 0) doc.delete('images')
    }
    const prefix = `${imagePatchDir(envName).slice(`environments/${envName}/`.length)}/`
    mergeList(
      doc,
      'patches',
      path,
      spec.components.map((c) => `${prefix}${c.name}.yaml`),
      (item) => IMAGE_PATCH.test(item),
      {
        keyOf: (item) => {
          const value = isMap(item) ? item.get('path') : undefined
          return typeof value === 'string' ? value : undefined
        },
        create: (item) => ({ path: item }),
      },
    )
  }
  const merged = doc.toString({ lineWidth: 0 })
  const written = store.write(spec, envName, (p) => (p === path ? merged : input.readText(p)), {
    pins: input.envPins?.get(envName) ?? input.pins ?? new Map(),
    removeRepositories: removedImages,
  })
  const files: DesiredFile[] = [{ path, content: written.get(path) ?? merged, merged: true }]
  for (const [file, content] of written) {
    if (file === path) continue
    // A patch's header names its component's image: an image changed in the spec is renamed there too.
    const component = spec.components.find((c) => file === imagePatchPath(envName, c.name))
    const text = component ? renameImageInHeader(content, removedImages, component.image) : content
    files.push({ path: file, content: text, merged: true })
  }
  return files
}

function renameImageInHeader(text: string, removed: readonly string[], image: string): string {
  if (removed.length === 0) return text
  const lines = text.split('\n')
  for (let i = 0; i < lines.length && lines[i]!.startsWith('#'); i++) {
    for (const old of removed) lines[i] = lines[i]!.replaceAll(`${old}:`, `${image}:`)
  }
  return lines.join('\n')
}
