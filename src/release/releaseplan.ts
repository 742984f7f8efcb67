/**
 * `konflux-gitops releaseplan`: the Konflux objects that make Konflux itself run `konflux-gitops release` on every
 * Snapshot that passed its tests: a ReleasePlan (auto-release, the mapping, a tenant pipeline), the tenant Pipeline
 * to commit where the ReleasePlan's git resolver finds it, and the RBAC its ServiceAccount needs to read the
 * Snapshot and ReleasePlan. Pure: objects in, YAML out.
 */
import { stringify } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { IMAGE_REPOSITORY, ownVersion } from '../cli/package-info.js'
import { DEFAULT_TAG } from './plan.js'
import { TAG_PATTERN } from './templates.js'

export interface ReleasePlanInput {
  /** The Konflux Application released (or, with the ComponentGroup model, `componentGroup`): exactly one. */
  application?: string | undefined
  componentGroup?: string | undefined
  namespace?: string | undefined
  tags?: string[] | undefined
  /** Git repository the tenant Pipeline is committed to (the ReleasePlan's git resolver reads it). */
  pipelineRepo?: string | undefined
  pipelineRevision?: string | undefined
  pipelinePath?: string | undefined
  serviceAccount?: string | undefined
  /** kubernetes.io/dockerconfigjson Secret with push credentials for the release repositories. */
  registrySecret?: string | undefined
  /** The konflux-gitops image (deploy/Containerfile) the release step runs; default: that of cliVersion. */
  runnerImage?: string | undefined
  /** konflux-gitops version whose image the pipeline runs; default: the version writing it. */
  cliVersion?: string | undefined
}

export interface ReleasePlanResult {
  /** The application or component group released. */
  application: string
  componentGroup?: string
  releasePlanName: string
  pipelinePath: string
  documents: Record<string, unknown>[]
  yaml: string
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export function renderReleasePlan(input: ReleasePlanInput): ReleasePlanResult {
  if ((input.application === undefined) === (input.componentGroup === undefined)) {
    throw new UsageError('give exactly one of --application and --component-group', {
      hint: 'A ReleasePlan releases one Konflux Application, or one ComponentGroup (the newer model).',
    })
  }
  const flag = input.application !== undefined ? '--application' : '--component-group'
  const owner = (input.application ?? input.componentGroup)!
  if (!DNS_LABEL.test(owner) || owner.length > 63) {
    throw new UsageError(
      `${flag} ${JSON.stringify(owner)} is not a Konflux ${input.application !== undefined ? 'application' : 'component group'} name`,
      {
        hint: `Names are lowercase letters, digits and "-", as in \`kubectl get ${input.application !== undefined ? 'applications' : 'componentgroups'}\`.`,
      },
    )
  }
  const tags = input.tags && input.tags.length > 0 ? input.tags : [DEFAULT_TAG]
  for (const tag of tags) {
    if (!tag.includes('{{') && !TAG_PATTERN.test(tag)) {
      throw new UsageError(`--tag ${JSON.stringify(tag)}: a tag may contain only letters, digits, ".", "_" and "-"`)
    }
  }
  const name = `${owner}-konflux-gitops-release`
  const serviceAccount = input.serviceAccount ?? 'konflux-gitops-releaser'
  const pipelinePath = input.pipelinePath ?? '.tekton/konflux-gitops-release.yaml'
  const registrySecret = input.registrySecret ?? `${owner}-release-push`
  const runnerImage = input.runnerImage ?? `${IMAGE_REPOSITORY}:${input.cliVersion ?? ownVersion()}`
  const namespaceMeta = input.namespace ? { namespace: input.namespace } : {}

  const releasePlan = {
    apiVersion: 'appstudio.redhat.com/v1alpha1',
    kind: 'ReleasePlan',
    metadata: {
      name,
      ...namespaceMeta,
      labels: {
        'release.appstudio.openshift.io/auto-release': 'true',
        'release.appstudio.openshift.io/standing-attribution': 'true',
      },
    },
    spec: {
      ...(input.application !== undefined ? { application: owner } : { componentGroup: owner }),
      data: { mapping: { defaults: { tags } } },
      tenantPipeline: {
        serviceAccountName: serviceAccount,
        timeouts: { pipeline: '30m0s' },
        pipelineRef: {
          resolver: 'git',
          params: [
            { name: 'url', value: input.pipelineRepo ?? 'https://github.com/OWNER/GITOPS-REPO.git' },
            { name: 'revision', value: input.pipelineRevision ?? 'main' },
            { name: 'pathInRepo', value: pipelinePath },
          ],
        },
      },
    },
  }

  // Konflux passes `snapshot` and `releasePlan` as "<namespace>/<name>"; the step reads both through the API with
  // the pod's ServiceAccount token, with the Node.js of the konflux-gitops image (nothing is installed at run time).
  const script = `#!/usr/bin/env bash
set -euo pipefail
api=https://kubernetes.default.svc/apis/appstudio.redhat.com/v1alpha1
get() { # $1 = plural, $2 = namespace/name
  node -e '
    const [plural, ref] = process.argv.slice(1); const [ns, name] = ref.split("/")
    const fs = require("node:fs"), https = require("node:https")
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    https.get(process.env.API + "/namespaces/" + ns + "/" + plural + "/" + name, {
      ca: fs.readFileSync(sa + "/ca.crt"), headers: { authorization: "Bearer " + fs.readFileSync(sa + "/token", "utf8") },
    }, (res) => { let s = ""; res.on("data", (c) => (s += c)); res.on("end", () => {
      if (res.statusCode !== 200) { console.error(plural + " " + ref + ": HTTP " + res.statusCode); process.exit(1) }
      process.stdout.write(s) }) })' "$1" "$2"
}
export API="$api"
get snapshots "$(params.snapshot)" > /tmp/snapshot.json
get releaseplans "$(params.releasePlan)" > /tmp/releaseplan.json
# The full report goes to this step's log; the result (Tekton keeps at most 4096 bytes of results) gets the
# summary and digests only.
DOCKER_CONFIG=/docker-config konflux-gitops release \\
  --snapshot /tmp/snapshot.json --mapping /tmp/releaseplan.json --json --result-file "$(results.report.path)"
`

  const pipeline = {
    apiVersion: 'tekton.dev/v1',
    kind: 'Pipeline',
    metadata: { name: 'konflux-gitops-release' },
    spec: {
      description: `Retags the images of a tested Snapshot of ${owner} (konflux-gitops release).`,
      params: [
        { name: 'release', type: 'string', description: 'namespace/name of the Release' },
        { name: 'releasePlan', type: 'string', description: 'namespace/name of the ReleasePlan' },
        { name: 'snapshot', type: 'string', description: 'namespace/name of the Snapshot' },
      ],
      results: [{ name: 'report', value: '$(tasks.release.results.report)' }],
      tasks: [
        {
          name: 'release',
          params: [
            { name: 'snapshot', value: '$(params.snapshot)' },
            { name: 'releasePlan', value: '$(params.releasePlan)' },
          ],
          taskSpec: {
            params: [
              { name: 'snapshot', type: 'string' },
              { name: 'releasePlan', type: 'string' },
            ],
            results: [
              {
                name: 'report',
                description: 'summary and digests (the full konflux-gitops release --json is in the log)',
              },
            ],
            volumes: [
              {
                name: 'docker-config',
                secret: { secretName: registrySecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
              },
            ],
            steps: [
              {
                name: 'release',
                image: runnerImage,
                volumeMounts: [{ name: 'docker-config', mountPath: '/docker-config', readOnly: true }],
                script,
              },
            ],
          },
        },
      ],
    },
  }

  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: serviceAccount, ...namespaceMeta },
    rules: [{ apiGroups: ['appstudio.redhat.com'], resources: ['snapshots', 'releaseplans'], verbs: ['get'] }],
  }
  const serviceAccountDoc = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: serviceAccount, ...namespaceMeta },
    secrets: [{ name: registrySecret }],
  }
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: serviceAccount, ...namespaceMeta },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: serviceAccount },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, ...namespaceMeta }],
  }
  const documents = [releasePlan, serviceAccountDoc, role, binding, pipeline]
  const header = [
    `# Konflux runs konflux-gitops release for every Snapshot of ${owner} that passes its tests.`,
    `# 1. Commit the Pipeline (last document) to ${pipelinePath} in ${input.pipelineRepo ?? 'your GitOps repository'}.`,
    `# 2. Create the Secret ${registrySecret} (kubernetes.io/dockerconfigjson) with push access to the release repositories.`,
    '# 3. kubectl apply the other documents in your tenant namespace.',
  ].join('\n')
  const yaml = `${header}\n${documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')}`
  return {
    application: owner,
    ...(input.componentGroup !== undefined ? { componentGroup: owner } : {}),
    releasePlanName: name,
    pipelinePath,
    documents,
    yaml,
  }
}
