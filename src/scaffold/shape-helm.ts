import { isMap } from 'yaml'
import { helmValuesPath, parseYamlFile, pinStoreFor } from '../pins/index.js'
import type { RepoSpec } from '../spec/index.js'
import { argocdFiles } from './argocd.js'
import type { DesiredFile } from './plan.js'
import { type FlavourPlanner, updaterPlanner } from './shape.js'
import { loadTemplate, renderTemplate } from './templates.js'

export const chartDir = (spec: Pick<RepoSpec, 'app'>) => `charts/${spec.app}`
const CHART_TEMPLATES = ['templates/deployment.yaml', 'templates/service.yaml']

/**
 * One chart for the application (its templates range over `components`), one values file per environment holding
 * that environment's image pins, and Argo CD Applications combining the two.
 */
export const helmFlavour: FlavourPlanner = {
  mergedPaths(spec) {
    return spec.environments.map((env) => helmValuesPath(env.name))
  },

  files(input, removedImages) {
    const { spec } = input
    const files: DesiredFile[] = [...chartFiles(spec)]
    const store = pinStoreFor(spec)
    for (const env of spec.environments) {
      const path = helmValuesPath(env.name)
      const fresh = renderTemplate('helm/environment/values.yaml', {
        app: spec.app,
        env: env.name,
        tag: spec.tag,
        updater: updaterPlanner(spec).displayName,
      })
      const written = store.write(
        spec,
        env.name,
        (p) => (p === path ? (input.readText(p) ?? fresh) : input.readText(p)),
        {
          pins: input.envPins?.get(env.name) ?? input.pins ?? new Map(),
          removeRepositories: removedImages,
        },
      )
      for (const [file, content] of written) files.push({ path: file, content, merged: true })
    }
    files.push(...argocdFiles(spec, 'helm/argocd'))
    return files
  },

  readme(spec) {
    return {
      pinForm: `\`tag: "${spec.tag}@sha256:…"\` under \`components.<component>.image\` in \`environments/<env>/values.yaml\``,
      pinField: '`tag:`',
      pinFile: '`values.yaml`',
      mergedNote: 'The `components:` of each environment values file are merged.',
      layoutList: [
        `- \`${chartDir(spec)}/\`: the Helm chart, one Deployment (and Service) per component; no image pins.`,
        '- `environments/<env>/values.yaml`: the image pins of each environment (repository and `tag: "<tag>@sha256:…"`).',
      ].join('\n'),
    }
  },
}

function chartFiles(spec: RepoSpec): DesiredFile[] {
  const dir = chartDir(spec)
  const values = parseYamlFile(
    renderTemplate('helm/chart/values.yaml', { app: spec.app, tag: spec.tag }),
    `${dir}/values.yaml`,
  )
  const components = values.createNode(
    Object.fromEntries(
      spec.components.map((component) => [
        component.name,
        component.port === undefined ? {} : { port: component.port },
      ]),
    ),
  )
  if (isMap(components) && components.items.length > 0) components.flow = false
  values.set('components', components)
  return [
    { path: `${dir}/Chart.yaml`, content: renderTemplate('helm/chart/Chart.yaml', { app: spec.app }), merged: false },
    { path: `${dir}/values.yaml`, content: values.toString({ lineWidth: 0 }), merged: false },
    // Helm's own {{ }} templates hold no ${} placeholders: copied as they are.
    ...CHART_TEMPLATES.map((name) => ({
      path: `${dir}/${name}`,
      content: loadTemplate(`helm/chart/${name}`),
      merged: false,
    })),
  ]
}
