import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const DIGEST = `sha256:${'a'.repeat(64)}`

/**
 * The layout `init` writes (issue 3), by hand, so validate's tests do not depend on init. Each failing fixture is
 * this repo with one edit.
 */
export function cleanRepo(): Record<string, string> {
  const components = [
    { name: 'api', image: 'quay.io/acme/shop/api', port: 8080 },
    { name: 'web', image: 'quay.io/acme/shop/web', port: 3000 },
  ]
  const envs = ['dev', 'stage', 'prod']
  const files: Record<string, string> = {
    'konflux-gitops.yaml': `apiVersion: konflux-gitops.dev/v1alpha1
kind: GitOpsRepo
app: shop
tag: released
components:
${components.map((c) => `  - name: ${c.name}\n    image: ${c.image}\n    port: ${c.port}`).join('\n')}
environments:
${envs.map((e) => `  - name: ${e}`).join('\n')}
`,
    'renovate.json': `${JSON.stringify(
      {
        $schema: 'https://docs.renovatebot.com/renovate-schema.json',
        extends: ['config:recommended', 'docker:pinDigests'],
        packageRules: [{ matchManagers: ['kustomize'], matchUpdateTypes: ['digest'], automerge: true }],
      },
      null,
      2,
    )}\n`,
    'argocd/applicationset.yaml': `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: shop
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: https://github.com/acme/shop-gitops.git
        revision: HEAD
        directories:
          - path: environments/*
  template:
    metadata:
      name: 'shop-{{.path.basename}}'
    spec:
      project: default
      source:
        repoURL: https://github.com/acme/shop-gitops.git
        targetRevision: HEAD
        path: '{{.path.path}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'shop-{{.path.basename}}'
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
`,
    '.github/workflows/validate.yaml': `name: validate
on: [pull_request]
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v6
      - run: npx konflux-gitops validate --format github
`,
  }
  for (const c of components) {
    files[`components/${c.name}/base/kustomization.yaml`] = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
`
    files[`components/${c.name}/base/deployment.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${c.name}
  labels:
    app.kubernetes.io/name: ${c.name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${c.name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${c.name}
    spec:
      containers:
        - name: ${c.name}
          image: ${c.image}
          ports:
            - containerPort: ${c.port}
`
    files[`components/${c.name}/base/service.yaml`] = `apiVersion: v1
kind: Service
metadata:
  name: ${c.name}
spec:
  selector:
    app.kubernetes.io/name: ${c.name}
  ports:
    - port: 80
      targetPort: ${c.port}
`
  }
  for (const env of envs) {
    files[`environments/${env}/kustomization.yaml`] = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-${env}
resources:
${components.map((c) => `  - ../../components/${c.name}/base`).join('\n')}
images:
${components
  .map((c) => `  - name: ${c.image}\n    newTag: ${env === 'prod' ? `released@${DIGEST}` : 'released'}`)
  .join('\n')}
`
  }
  return files
}

export async function writeRepo(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), content)
  }
}
