import { parseYamlFile } from '../pins/index.js'
import { namespaceOf, type RepoSpec } from '../spec/index.js'
import type { DesiredFile } from './plan.js'
import { renderTemplate } from './templates.js'

/** Argo CD cannot read a repo it has no URL for; this placeholder says where to set it. */
export const REPO_URL_PLACEHOLDER = 'https://github.com/OWNER/REPO.git'

/**
 * Argo CD objects from the templates in `templateDir` (`argocd` for kustomize overlays, `helm/argocd` for the
 * chart with a per-environment values file): the same three forms, only their `source(s)` differ.
 */
export function argocdFiles(spec: RepoSpec, templateDir: string): DesiredFile[] {
  if (spec.argocd === 'none') return []
  const repoURL = spec.repoURL ?? REPO_URL_PLACEHOLDER
  const common = { app: spec.app, repoURL, branch: spec.branch }
  if (spec.argocd === 'applications') {
    return spec.environments.map((env) => ({
      path: `argocd/${env.name}.yaml`,
      content: renderTemplate(`${templateDir}/application.yaml`, {
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
        content: renderTemplate(`${templateDir}/applicationset.yaml`, {
          ...common,
          destinationServer: spec.destinationServer,
        }),
        merged: false,
      },
    ]
  }
  const listTemplate = `${templateDir}/applicationset-list.yaml`
  const doc = parseYamlFile(renderTemplate(listTemplate, common), listTemplate)
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
