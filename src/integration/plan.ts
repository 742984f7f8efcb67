import { UsageError } from '../cli/errors.js'
import { IMAGE_REPOSITORY, ownImage } from '../cli/package-info.js'
import { renderTemplate } from '../scaffold/templates.js'
import { DNS_LABEL, type RepoSpec } from '../spec/index.js'

export const PIPELINE_PATH = 'integration/pipelines/deploy-and-test.yaml'
export const SCENARIO_PATH = 'integration/integration-test-scenario.yaml'

export interface IntegrationTestOptions {
  /** The GitOps repository URL the git resolver and the pipeline clone. */
  readonly repoUrl: string
  /** Branch, tag or commit the scenario and pipeline read. */
  readonly revision: string
  /** The environment (overlay or Helm values) the Snapshot goes on top of; undefined: the spec's default (see defaultTestEnvironment). */
  readonly env?: string | undefined
  /** Name of the scenario and pipeline; default `<app>-deploy-and-test`. */
  readonly name?: string | undefined
  /** konflux-gitops version whose image the pipeline runs; default this one. */
  readonly cliVersion?: string | undefined
}

export interface IntegrationFile {
  readonly path: string
  readonly content: string
  /** Always false: generated whole, like init's non-merged files (the shape init's planFiles uses). */
  readonly merged: false
}

/** The closest thing to production that still moves often: stage if there is one, else the first environment. */
export function defaultTestEnvironment(spec: RepoSpec): string {
  return spec.environments.find((env) => env.name === 'stage')?.name ?? spec.environments[0]?.name ?? ''
}

/**
 * The URL for the scenario's git resolver. integration-service's admission webhook accepts only a valid URL that
 * begins with https:// for it, so an ssh remote (`git@host:owner/repo.git`, `ssh://git@host/owner/repo`) becomes
 * the same repository over https; anything else is refused with a hint.
 */
export function httpsRepoUrl(url: string): string {
  const value = url.trim()
  const scp = /^[\w.-]+@([\w.-]+):(?!\/)(.+)$/.exec(value)
  if (scp) return `https://${scp[1]}/${scp[2]!.replace(/^\/+/, '')}`
  const ssh = /^(?:ssh|git\+ssh):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(value)
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`
  if (/^https:\/\/[^/\s]+\/\S+$/.test(value)) {
    try {
      new URL(value)
      return value
    } catch {
      // fall through to the refusal
    }
  }
  throw new UsageError(
    `the GitOps repository URL ${JSON.stringify(url)} is not an https:// URL, which Konflux's IntegrationTestScenario git resolver requires`,
    {
      code: 'invalid-repo-url',
      hint: 'Pass the https URL Konflux can clone, e.g. --repo-url https://github.com/OWNER/REPO.git',
    },
  )
}

/** YAML double-quoted scalar: a URL or revision may hold characters plain YAML would misread. */
const quoted = (value: string) => JSON.stringify(value)

/**
 * Pure: the IntegrationTestScenario and the Tekton Pipeline it runs, from the repo spec. `init --integration-test`
 * and `integration add` both write exactly these files.
 */
export function integrationTestFiles(spec: RepoSpec, options: IntegrationTestOptions): IntegrationFile[] {
  const env = options.env ?? spec.integrationTest?.env ?? defaultTestEnvironment(spec)
  if (env !== '' && !spec.environments.some((e) => e.name === env)) {
    throw new UsageError(`integration test environment "${env}" is not an environment of this repo`, {
      code: 'unknown-environment',
      hint: `Pick one of ${spec.environments.map((e) => e.name).join(', ') || '(none)'} (integrationTest.env in konflux-gitops.yaml, or --env).`,
    })
  }
  const name = options.name ?? spec.integrationTest?.name ?? `${spec.app}-deploy-and-test`
  if (!DNS_LABEL.test(name) || name.length > 63) {
    throw new UsageError(`--name ${name}: must be a DNS-1123 label (lowercase letters, digits and "-")`)
  }
  if (options.repoUrl.trim() === '') throw new UsageError('the GitOps repository URL is empty')
  const repoUrl = httpsRepoUrl(options.repoUrl)
  const group = spec.integrationTest?.componentGroup
  const values = {
    app: spec.app,
    // The Application model, or a ComponentGroup (whose contexts have no "application"; "all" is the same set).
    ownerField: group ? 'componentGroup' : 'application',
    owner: group ?? spec.app,
    ownerKind: group ? 'component group' : 'application',
    ownerWords: group ? `component group ${group}` : spec.app,
    context: group ? 'all' : 'application',
    name,
    env,
    repoUrl: quoted(repoUrl),
    revision: quoted(options.revision),
    cliImage: options.cliVersion ? `${IMAGE_REPOSITORY}:${options.cliVersion}` : ownImage(),
  }
  return [
    {
      path: SCENARIO_PATH,
      content: renderTemplate('integration/integration-test-scenario.yaml', values),
      merged: false,
    },
    {
      path: PIPELINE_PATH,
      content: renderTemplate('integration/pipelines/deploy-and-test.yaml', values),
      merged: false,
    },
  ]
}
