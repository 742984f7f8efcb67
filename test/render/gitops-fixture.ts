/**
 * A GitOps repo in the layout `init` writes (issue 3), made by hand so these tests do not depend on `init`:
 * konflux-gitops.yaml, components/<c>/base, environments/<env>/kustomization.yaml with `images:` pins.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { kubeTools } from '../harness/kube-tools.js'

const run = promisify(execFile)

export const HEX = (c: string) => c.repeat(64).slice(0, 64)
export const digestOf = (c: string) => `sha256:${HEX(c)}`

export interface FixtureComponent {
  name: string
  image: string
  port?: number
}

export interface FixtureOptions {
  app?: string
  components?: FixtureComponent[]
  /** env name → component name → digest (absent: unpinned). */
  envs?: Record<string, Record<string, string | undefined>>
  /** Extra spec fields per env (e.g. frozen). */
  envExtra?: Record<string, Record<string, unknown>>
  git?: boolean
}

export const DEFAULT_COMPONENTS: FixtureComponent[] = [
  { name: 'api', image: 'quay.io/acme/shop/api', port: 8080 },
  { name: 'web', image: 'quay.io/acme/shop/web', port: 3000 },
]

async function put(dir: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true })
  await writeFile(join(dir, path), text)
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  })
  return stdout.trim()
}

export async function makeGitOpsRepo(dir: string, options: FixtureOptions = {}): Promise<void> {
  const app = options.app ?? 'shop'
  const components = options.components ?? DEFAULT_COMPONENTS
  const envs = options.envs ?? { dev: {}, stage: {}, prod: {} }
  const spec = [
    '# konflux-gitops: the source of truth for this repository.',
    'apiVersion: konflux-gitops.dev/v1alpha1',
    'kind: GitOpsRepo',
    `app: ${app}`,
    'tag: released',
    'flavour: kustomize',
    'updater: renovate',
    'components:',
    ...components.flatMap((c) => [`  - name: ${c.name}`, `    image: ${c.image}`, `    port: ${c.port ?? 8080}`]),
    'environments:',
    ...Object.keys(envs).flatMap((env) => {
      const extra = options.envExtra?.[env]
      return [
        `  - name: ${env}`,
        ...Object.entries(extra ?? {}).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`),
      ]
    }),
  ]
  await put(dir, 'konflux-gitops.yaml', `${spec.join('\n')}\n`)
  for (const c of components) {
    await put(
      dir,
      `components/${c.name}/base/kustomization.yaml`,
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n`,
    )
    await put(
      dir,
      `components/${c.name}/base/deployment.yaml`,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        `  name: ${c.name}`,
        'spec:',
        '  selector:',
        `    matchLabels: {app.kubernetes.io/name: ${c.name}}`,
        '  template:',
        '    metadata:',
        `      labels: {app.kubernetes.io/name: ${c.name}}`,
        '    spec:',
        '      containers:',
        `        - name: ${c.name}`,
        `          image: ${c.image}`,
        '',
      ].join('\n'),
    )
    await put(
      dir,
      `components/${c.name}/base/service.yaml`,
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${c.name}\nspec:\n  selector: {app.kubernetes.io/name: ${c.name}}\n  ports:\n    - port: ${c.port ?? 8080}\n`,
    )
  }
  for (const [env, pins] of Object.entries(envs)) {
    await put(dir, `environments/${env}/kustomization.yaml`, envKustomization(app, env, components, pins))
  }
  if (options.git) {
    await git(dir, 'init', '-q', '--initial-branch=main')
    await git(dir, 'add', '-A')
    await git(dir, 'commit', '-q', '-m', 'init')
  }
}

export function envKustomization(
  app: string,
  env: string,
  components: FixtureComponent[],
  pins: Record<string, string | undefined>,
): string {
  return [
    `# Environment ${env} of ${app}. Renovate keeps the images: pins below current.`,
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${app}-${env}`,
    'resources:',
    ...components.map((c) => `  - ../../components/${c.name}/base`),
    'images:',
    ...components.flatMap((c) => {
      const digest = pins[c.name]
      return [
        `  # ${c.name}: moved by Renovate pull requests`,
        `  - name: ${c.image}`,
        `    newTag: ${digest ? `released@${digest}` : 'released'}`,
      ]
    }),
    '',
  ].join('\n')
}

/** A folder holding `kubectl` (v1.34, kustomize v5.7), to put first on PATH. */
export async function kubectlBinDir(): Promise<string> {
  return dirname((await kubeTools()).kubectl)
}

/** A Snapshot; `passed` makes it one Konflux's release gate lets through (a push build whose tests passed). */
export function snapshotYaml(
  name: string,
  components: Array<{ name: string; image: string }>,
  app = 'shop',
  options: { passed?: boolean } = {},
): string {
  return [
    'apiVersion: appstudio.redhat.com/v1alpha1',
    'kind: Snapshot',
    'metadata:',
    `  name: ${name}`,
    ...(options.passed ? ['  labels:', '    pac.test.appstudio.openshift.io/event-type: push'] : []),
    'spec:',
    `  application: ${app}`,
    '  components:',
    ...components.flatMap((c) => [`    - name: ${c.name}`, `      containerImage: ${c.image}`]),
    ...(options.passed
      ? [
          'status:',
          '  conditions:',
          '    - type: AppStudioTestSucceeded',
          '      status: "True"',
          '      reason: Passed',
        ]
      : []),
    '',
  ].join('\n')
}
