/**
 * `konflux-gitops releaseplan`: the Konflux objects that make Konflux itself run `konflux-gitops release` on every
 * Snapshot that passed its tests: a ReleasePlan (auto-release, the mapping, a tenant pipeline), the tenant Pipeline
 * to commit where the ReleasePlan's git resolver finds it, and the RBAC its ServiceAccount needs to read the
 * Snapshot and ReleasePlan. Pure: the template scaffolds/releaseplan/releaseplan.yaml filled in, YAML out.
 */
import { type Document, parseAllDocuments } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { IMAGE_REPOSITORY, ownVersion } from '../cli/package-info.js'
import { parseImageRef } from '../image-ref/index.js'
import { renderTemplate } from '../scaffold/templates.js'
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
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

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
  for (const [flagName, value] of [
    ['--pipeline-repo', input.pipelineRepo],
    ['--pipeline-revision', input.pipelineRevision],
    ['--pipeline-path', input.pipelinePath],
    ['--registry-secret', input.registrySecret],
    ['--service-account', input.serviceAccount],
    ['--runner-image', input.runnerImage],
  ] as const) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (value !== undefined && (value.trim() === '' || /[\u0000-\u001f\u007f]/.test(value))) {
      throw new UsageError(`${flagName} ${JSON.stringify(value)}: empty or holds a control character (a newline?)`)
    }
  }
  const name = `${owner}-konflux-gitops-release`
  const serviceAccount = input.serviceAccount ?? 'konflux-gitops-releaser'
  const pipelinePath = input.pipelinePath ?? '.tekton/konflux-gitops-release.yaml'
  const registrySecret = input.registrySecret ?? `${owner}-release-push`
  const runnerImage = input.runnerImage ?? `${IMAGE_REPOSITORY}:${input.cliVersion ?? ownVersion()}`
  for (const [flagName, value] of [
    ['--service-account', serviceAccount],
    ['--registry-secret', registrySecret],
  ] as const) {
    if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
      throw new UsageError(`${flagName} ${JSON.stringify(value)} is not a Kubernetes object name`, {
        hint: 'Lowercase letters, digits, "-" and ".", as in `kubectl get serviceaccounts,secrets`.',
      })
    }
  }
  try {
    parseImageRef(runnerImage)
  } catch (error) {
    throw new UsageError(`--runner-image ${JSON.stringify(runnerImage)}: ${(error as Error).message}`)
  }
  // Values go in as YAML double-quoted scalars (JSON strings) where a flag could hold characters plain YAML
  // would misread; names are checked Kubernetes names, the image a parsed reference, tags checked above. The
  // namespace, when given, is set with the Document API.
  const quoted = (value: string) => JSON.stringify(value)
  const text = renderTemplate('releaseplan/releaseplan.yaml', {
    owner,
    ownerField: input.application !== undefined ? 'application' : 'componentGroup',
    name,
    tags: `[${tags.map(quoted).join(', ')}]`,
    serviceAccount,
    registrySecret,
    pipelineRepo: quoted(input.pipelineRepo ?? 'https://github.com/OWNER/GITOPS-REPO.git'),
    pipelineRepoWords: input.pipelineRepo ?? 'your GitOps repository',
    pipelineRevision: quoted(input.pipelineRevision ?? 'main'),
    pipelinePath,
    pipelinePathValue: quoted(pipelinePath),
    runnerImage,
  })
  const parsed = parseAllDocuments(text)
  if (input.namespace) {
    for (const doc of parsed.slice(0, 4)) (doc as Document).setIn(['metadata', 'namespace'], input.namespace)
    ;(parsed[3] as Document).setIn(['subjects', 0, 'namespace'], input.namespace)
  }
  const documents = parsed.map((doc) => (doc as Document).toJS() as Record<string, unknown>)
  const yaml = input.namespace ? parsed.map((doc) => doc.toString({ lineWidth: 0 })).join('') : text
  return {
    application: owner,
    ...(input.componentGroup !== undefined ? { componentGroup: owner } : {}),
    releasePlanName: name,
    pipelinePath,
    documents,
    yaml,
  }
}
