import { readFile } from 'node:fs/promises'
import { UsageError, UserError } from '../cli/errors.js'
import { remoteUrl } from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { checkAutomergeEnvironment } from '../presets/index.js'
import { findEnvironment, openGitOpsRepo, openInitTarget, repoReader } from '../repo/index.js'
import { parseSnapshot, releaseGate, type Snapshot } from '../snapshot/index.js'
import {
  type ComponentSpec,
  describeIssues,
  type EnvironmentSpec,
  namespaceOf,
  type RepoSpec,
  type RepoSpecInput,
  repoSpec,
  SPEC_API_VERSION,
  SPEC_FILE,
  SPEC_KIND,
} from '../spec/index.js'
import {
  applySpecChange,
  type RepoChangeOptions,
  type RepoState,
  type ScaffoldResult,
  type SpecChange,
} from './change.js'
import { checkImageRepository, checkName, checkPort, parseComponentFlag, withoutCredentials } from './inputs.js'
import { promptForMissing } from './prompts.js'

export type { RepoChangeOptions, ScaffoldResult } from './change.js'

/** Resolves `repo:tag` to the digest the tag points at now (the index digest for multi-arch images). */
export type DigestResolver = (reference: string) => Promise<string>

export interface InitRequest extends RepoChangeOptions {
  readonly app?: string | undefined
  /** `NAME=IMAGE[:PORT]` as given on the command line. */
  readonly components?: readonly string[]
  readonly environments?: readonly string[]
  readonly tag?: string | undefined
  readonly argocd?: RepoSpec['argocd'] | undefined
  readonly destinationServer?: string | undefined
  readonly renovatePreset?: string | undefined
  readonly renovateRunner?: RepoSpec['renovateRunner'] | undefined
  readonly ci?: RepoSpec['ci'] | undefined
  readonly flavour?: RepoSpec['flavour'] | undefined
  readonly updater?: RepoSpec['updater'] | undefined
  readonly branch?: string | undefined
  /** A Snapshot file, or `-` for stdin. */
  readonly fromSnapshot?: string | undefined
  /** Pin every environment to the digest the tag points at now (or the Snapshot's digests). */
  readonly pin?: boolean
  readonly resolveDigest?: DigestResolver
  readonly readStdin?: () => Promise<string>
  /** A person is at a terminal (not --json, not CI): ask for a missing app name or components. */
  readonly interactive?: boolean
  /** `OWNER/REPO` on GitHub: created when missing, then pushed to over https with GITHUB_TOKEN or GH_TOKEN. */
  readonly github?: string | undefined
  readonly githubApiUrl?: string | undefined
  /** Create the GitHub repository private (default true). */
  readonly private?: boolean
  /** Also write the ephemeral-environment integration test (integration/, see enableIntegrationTest). */
  readonly integrationTest?: boolean
  /** Public key files (PEM) to record in verify.keys (as PEM text, so the key travels with the repository). */
  readonly verifyKeys?: readonly string[] | undefined
}

export const DEFAULT_ENVIRONMENTS = ['dev', 'stage', 'prod']

/** `konflux-gitops init`: create or reconcile a GitOps repo from flags, a Snapshot and the spec already there. */
export async function initRepo(request: InitRequest): Promise<ScaffoldResult> {
  const snapshot = request.fromSnapshot ? await loadSnapshot(request.fromSnapshot, request.readStdin) : undefined
  const flagComponents = (request.components ?? []).map(parseComponentFlag)
  const flagEnvironments = (request.environments ?? []).map((env) => checkName('environment name', env, `--env ${env}`))
  const flagApp = request.app ?? snapshot?.application
  if (request.gitRemote?.startsWith('-')) {
    throw new UsageError(`--git-remote ${request.gitRemote}: not a URL`, { hint: 'Give a file://, ssh or https URL.' })
  }
  if (flagApp !== undefined)
    checkName('app name', flagApp, request.app ? `--app ${flagApp}` : `${request.fromSnapshot}: spec.application`)
  if (request.renovatePreset !== undefined && request.renovatePreset.trim() === '') {
    throw new UsageError('--renovate-preset is empty', {
      hint: 'Give a preset reference such as github>acme/renovate-config',
    })
  }
  if (request.github) {
    const { parseRepositoryName } = await import('../github/index.js')
    parseRepositoryName(request.github)
    if (request.gitRemote) {
      throw new UsageError('--github and --git-remote both name the remote: give one of them', {
        hint: '--github creates the repository on GitHub and pushes there; --git-remote pushes to any URL.',
      })
    }
  }
  // The same gate as `release`: a Snapshot whose tests did not pass is no source of known-good digests.
  const gateNotes: string[] = []
  if (snapshot) {
    const gate = releaseGate(snapshot)
    if (!gate.releasable) {
      if (!request.force) {
        throw new UserError(
          `${request.fromSnapshot}: Snapshot ${snapshot.name} is not releasable:\n  - ${gate.reasons.join('\n  - ')}`,
          {
            code: 'not-releasable',
            hint: 'Start from a Snapshot whose integration tests passed on a push build; --force uses this one anyway.',
          },
        )
      }
      gateNotes.push(`--force: Snapshot ${snapshot.name} is not releasable (${gate.reasons.join('; ')})`)
    }
  }
  // Checked before the tree is touched: a private key or a certificate is refused here.
  const verifyPems = request.verifyKeys?.length
    ? (await (await import('../verify/index.js')).loadVerificationKeys(request.verifyKeys)).map((k) =>
        String(k.key.export({ type: 'spki', format: 'pem' })),
      )
    : []
  const state = await openInitTarget(request.dir, { adopt: request.force ?? false, dryRun: request.dryRun })

  // Everything the user gave is checked (and pins resolved) before GitHub or the tree is touched.
  const buildChange = async (current: RepoSpec | undefined, remoteUrl: string | undefined): Promise<SpecChange> => {
    let app = flagApp
    if (request.interactive && !current && !snapshot && (app === undefined || flagComponents.length === 0)) {
      const answers = await promptForMissing({ app: app === undefined, components: flagComponents.length === 0 })
      app ??= answers.app
      flagComponents.push(...answers.components.map(parseComponentFlag))
    }
    const components = mergeComponents(current?.components ?? [], [
      ...(snapshot ? snapshotComponents(snapshot, request.fromSnapshot!) : []),
      ...flagComponents,
    ])
    const environments = mergeEnvironments(
      current?.environments ?? [],
      flagEnvironments.length > 0 || current ? flagEnvironments : DEFAULT_ENVIRONMENTS,
    )
    const finalApp = app ?? current?.app
    if (finalApp === undefined) {
      throw new UsageError('init needs --app NAME (or --from-snapshot FILE)', {
        code: 'missing-app',
        hint: 'For example: konflux-gitops init demo --app shop --component api=quay.io/acme/shop/api',
      })
    }
    const remote = remoteUrl ? withoutCredentials(remoteUrl) : undefined
    const input: RepoSpecInput = {
      ...(current ?? {}),
      apiVersion: SPEC_API_VERSION,
      kind: SPEC_KIND,
      app: finalApp,
      components,
      environments,
      ...defined({
        tag: request.tag,
        argocd: request.argocd,
        destinationServer: request.destinationServer,
        renovatePreset: request.renovatePreset,
        renovateRunner: request.renovateRunner,
        ci: request.ci,
        flavour: request.flavour,
        updater: request.updater,
        branch: request.branch,
        repoURL: remote,
      }),
      ...(request.integrationTest ? { integrationTest: current?.integrationTest ?? {} } : {}),
      ...(verifyPems.length > 0
        ? {
            verify: {
              ...current?.verify,
              keys: [...new Set([...(current?.verify?.keys ?? []), ...verifyPems])],
            },
          }
        : {}),
    }
    const spec = validateSpec(input, 'the flags given')
    checkKubernetesNames(spec, {
      app: request.app ? `--app ${spec.app}` : `app ${spec.app}`,
      env: (env) => (flagEnvironments.includes(env) ? `--env ${env}` : `environment ${env}`),
      hint: 'Give a shorter --app or --env name.',
    })
    if (current) checkSameShape(current, spec, request.dir)
    if (spec.components.length === 0) {
      throw new UsageError('init needs at least one --component NAME=IMAGE[:PORT] (or --from-snapshot FILE)', {
        code: 'missing-component',
        hint: 'For example --component api=quay.io/acme/shop/api --component web=quay.io/acme/shop/web:8080',
      })
    }
    const envPins = request.pin
      ? await pinsForUnpinned(state.dir, spec, spec.components, {
          snapshot,
          resolveDigest: request.resolveDigest,
          progress: request.progress,
        })
      : undefined
    const names = (items: readonly { name: string }[]) => items.map((item) => item.name).join(', ')
    return {
      spec,
      ...(envPins ? { envPins } : {}),
      notes: gateNotes,
      message: `konflux-gitops init: ${spec.app} (components ${names(spec.components)}; environments ${names(spec.environments)})`,
    }
  }

  const draft = await buildChange(state.current?.spec, request.gitRemote)
  if (!request.github) return applySpecChange({ ...request, command: 'init' }, state, draft)
  const { ensureRepositoryRemote } = await import('../github/index.js')
  const github = await ensureRepositoryRemote(request.github, {
    dryRun: request.dryRun,
    private: request.private,
    apiUrl: request.githubApiUrl,
    progress: request.progress,
  })
  const change: SpecChange = {
    ...draft,
    spec: validateSpec({ ...draft.spec, repoURL: withoutCredentials(github.remote) }, '--github'),
  }
  return applySpecChange(
    { ...request, gitRemote: github.remote, push: !request.dryRun, pushAuth: github.pushAuth, command: 'init' },
    state,
    change,
  )
}

/** Open an existing konflux-gitops repo for one of the scaffold commands. */
async function openState(options: RepoChangeOptions, command: string): Promise<RepoState> {
  const repo = await openGitOpsRepo(options.dir, { write: options.dryRun ? undefined : command })
  return { dir: repo.dir, current: { spec: repo.spec, document: repo.document } }
}

export interface ComponentAddRequest extends RepoChangeOptions {
  readonly name: string
  readonly image: string
  readonly port?: number | string | undefined
  readonly pin?: boolean
  readonly resolveDigest?: DigestResolver
}

export async function addComponent(request: ComponentAddRequest): Promise<ScaffoldResult> {
  const name = checkName('component name', request.name, `component add ${request.name}`)
  const image = checkImageRepository(request.image, `--image ${request.image}`)
  const port = request.port === undefined ? undefined : checkPort(String(request.port), `--port ${request.port}`)
  const state = await openState(request, 'component add')
  const current = state.current!.spec
  const wanted: ComponentSpec = { name, image, ...(port === undefined ? {} : { port }) }
  const existing = current.components.find((c) => c.name === name)
  if (existing && JSON.stringify(existing) !== JSON.stringify(wanted)) {
    throw new UsageError(`component ${name} already exists with image ${existing.image}`, {
      code: 'component-exists',
      hint: `Edit it in ${SPEC_FILE} and run konflux-gitops init, or remove it first: konflux-gitops component remove ${name}`,
    })
  }
  const spec = validateSpec(
    { ...current, components: existing ? current.components : [...current.components, wanted] },
    'component add',
  )
  const envPins = request.pin
    ? await pinsForUnpinned(state.dir, spec, [wanted], {
        resolveDigest: request.resolveDigest,
        progress: request.progress,
      })
    : undefined
  return applySpecChange({ ...request, command: 'component add' }, state, {
    spec,
    ...(envPins ? { envPins } : {}),
    message: `konflux-gitops: add component ${name} (${image})`,
  })
}

export interface ComponentRemoveRequest extends RepoChangeOptions {
  readonly name: string
}

export async function removeComponent(request: ComponentRemoveRequest): Promise<ScaffoldResult> {
  const state = await openState(request, 'component remove')
  const current = state.current!.spec
  const known = current.components.some((c) => c.name === request.name)
  const spec = validateSpec(
    { ...current, components: current.components.filter((c) => c.name !== request.name) },
    'component remove',
  )
  const change = { spec, message: `konflux-gitops: remove component ${request.name}` }
  const options = { ...request, command: 'component remove' }
  if (!known) {
    // A removal that kept files you edited (reported as conflicts) is finished by the same command with --force:
    // the spec no longer names the component, and what is left of it is whatever --force would now replace.
    const left = request.force ? await applySpecChange({ ...options, dryRun: true }, state, change) : undefined
    if (!left || left.created.length + left.updated.length + left.deleted.length === 0) {
      throw new UsageError(`component ${request.name} is not in ${SPEC_FILE}`, {
        code: 'unknown-component',
        hint: `Components: ${current.components.map((c) => c.name).join(', ') || '(none)'}. If an earlier removal kept files you edited, run it again with --force to delete them.`,
      })
    }
    if (request.dryRun) return left
  }
  return applySpecChange(options, state, change)
}

export interface EnvAddRequest extends RepoChangeOptions {
  readonly name: string
  readonly namespace?: string | undefined
  readonly destinationServer?: string | undefined
  readonly autoMerge?: boolean | undefined
  /** Pin the new environment to the digest each component's tag points at now. */
  readonly pin?: boolean
  readonly resolveDigest?: DigestResolver
}

export async function addEnvironment(request: EnvAddRequest): Promise<ScaffoldResult> {
  const name = checkName('environment name', request.name, `env add ${request.name}`)
  if (request.namespace !== undefined) checkName('namespace', request.namespace, `--namespace ${request.namespace}`)
  if (request.autoMerge) checkAutomergeEnvironment(name, '--auto-merge')
  const state = await openState(request, 'env add')
  const current = state.current!.spec
  const wanted: EnvironmentSpec = {
    name,
    ...defined({
      namespace: request.namespace,
      destinationServer: request.destinationServer,
      autoMerge: request.autoMerge,
    }),
  }
  const existing = current.environments.find((e) => e.name === name)
  if (
    existing &&
    JSON.stringify({ ...existing, frozen: undefined }) !== JSON.stringify({ ...existing, ...wanted, frozen: undefined })
  ) {
    throw new UsageError(`environment ${name} already exists with other settings`, {
      code: 'environment-exists',
      hint: `Edit it in ${SPEC_FILE} and run konflux-gitops init, or remove it first: konflux-gitops env remove ${name}`,
    })
  }
  const spec = validateSpec(
    { ...current, environments: existing ? current.environments : [...current.environments, wanted] },
    `env add ${name}`,
  )
  checkKubernetesNames(spec, {
    app: `app ${spec.app}`,
    env: (env) => `env add ${env}`,
    only: name,
    hint: 'Give a shorter environment name, or a namespace with --namespace.',
  })
  const envPins = request.pin
    ? await pinsForUnpinned(state.dir, spec, spec.components, {
        envs: [name],
        resolveDigest: request.resolveDigest,
        progress: request.progress,
      })
    : undefined
  return applySpecChange({ ...request, command: 'env add' }, state, {
    spec,
    ...(envPins ? { envPins } : {}),
    message: `konflux-gitops: add environment ${name}`,
  })
}

export interface EnvRemoveRequest extends RepoChangeOptions {
  readonly name: string
}

export async function removeEnvironment(request: EnvRemoveRequest): Promise<ScaffoldResult> {
  const state = await openState(request, 'env remove')
  const current = state.current!.spec
  if (!current.environments.some((e) => e.name === request.name)) {
    throw new UsageError(`environment ${request.name} is not in ${SPEC_FILE}`, {
      code: 'unknown-environment',
      hint: `Environments: ${current.environments.map((e) => e.name).join(', ') || '(none)'}`,
    })
  }
  const spec = validateSpec(
    { ...current, environments: current.environments.filter((e) => e.name !== request.name) },
    'env remove',
  )
  return applySpecChange({ ...request, command: 'env remove' }, state, {
    spec,
    message: `konflux-gitops: remove environment ${request.name}`,
  })
}

// ---------------------------------------------------------------------------------------------------------------

const K8S_NAME_LIMIT = 63

/**
 * Names the spec turns into Kubernetes names: each environment's namespace (`<app>-<env>` unless set) is a
 * DNS-1123 label of at most 63 characters. Refused here, naming the flag, rather than by the cluster at sync time.
 */
function checkKubernetesNames(
  spec: RepoSpec,
  words: { app: string; env: (env: string) => string; only?: string; hint: string },
): void {
  for (const env of spec.environments) {
    if (words.only !== undefined && env.name !== words.only) continue
    const namespace = namespaceOf(spec, env)
    if (namespace.length > K8S_NAME_LIMIT) {
      throw new UsageError(
        `${words.env(env.name)}: namespace ${namespace} (${env.namespace === undefined ? `${words.app} and environment ${env.name}` : 'its namespace'}) is ${namespace.length} characters; Kubernetes allows at most ${K8S_NAME_LIMIT}`,
        { code: 'invalid-name', hint: words.hint },
      )
    }
  }
}

/**
 * `--pin`: for each environment (all, or `envs`), the digest to pin for each of `components` that is not pinned
 * there yet. A frozen environment and a pin already set are never moved: moving pins is promote's and the
 * updater's job. Digests come from the Snapshot when given, else from the registry (the tag's digest now).
 */
async function pinsForUnpinned(
  dir: string,
  spec: RepoSpec,
  components: readonly ComponentSpec[],
  options: {
    envs?: readonly string[]
    snapshot?: Snapshot | undefined
    resolveDigest?: DigestResolver | undefined
    progress?: ((message: string) => void) | undefined
  },
): Promise<Map<string, Map<string, string>>> {
  const store = pinStoreFor(spec)
  const readText = repoReader(dir)
  const wanted = new Map<string, Set<string>>()
  for (const env of spec.environments) {
    wanted.set(env.name, new Set())
    if (options.envs && !options.envs.includes(env.name)) continue
    if (env.frozen) {
      options.progress?.(`--pin: ${env.name} is frozen: its pins stay as they are`)
      continue
    }
    const pinned = store.read(spec, env.name, readText)
    for (const component of components) {
      const pin = pinned.find((p) => p.component === component.name && p.repository === component.image)
      if (pin?.digest === undefined) wanted.get(env.name)!.add(component.name)
    }
  }
  const needed = spec.components.filter((c) => [...wanted.values()].some((names) => names.has(c.name)))
  const digests =
    needed.length === 0
      ? new Map<string, string>()
      : options.snapshot
        ? snapshotPins(options.snapshot, spec)
        : await resolvePins({ ...spec, components: needed }, options.resolveDigest, options.progress)
  const envPins = new Map<string, Map<string, string>>()
  for (const [env, names] of wanted) {
    const pins = new Map<string, string>()
    for (const name of names) if (digests.has(name)) pins.set(name, digests.get(name)!)
    envPins.set(env, pins)
  }
  return envPins
}

/**
 * A repo holds one shape. Changing where pins live (kustomize images:, Helm values, manifest patches) would delete
 * the old layout and lose its pins, so it is refused with the way to migrate by hand instead. Changing only the
 * updater while the pins stay put (a Helm repo: both updaters read its values files) is a plain reconcile: the old
 * updater's files are removed and the new one's written in the same commit.
 */
function checkSameShape(current: RepoSpec, wanted: RepoSpec, dir: string): void {
  if (current.flavour === wanted.flavour && current.updater === wanted.updater) return
  if (current.flavour === wanted.flavour && pinStoreFor(current).shape === pinStoreFor(wanted).shape) return
  const from = `flavour ${current.flavour}, updater ${current.updater}`
  const to = `flavour ${wanted.flavour}, updater ${wanted.updater}`
  throw new UsageError(`${dir} is a konflux-gitops repo with ${from}; init will not switch it to ${to}`, {
    code: 'shape-change',
    hint:
      `A repo holds one shape, and switching drops the current pins. To migrate by hand: note each environment's digests ` +
      `(konflux-gitops status ${dir}), create a new repo with konflux-gitops init NEWDIR --flavour ${wanted.flavour} --updater ${wanted.updater} ` +
      `--from-snapshot FILE --pin (or the same --component flags), then point Argo CD at it. Without --flavour/--updater, init keeps ${from}.`,
  })
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>
}

function validateSpec(input: RepoSpecInput, source: string): RepoSpec {
  const parsed = repoSpec.safeParse(input)
  if (!parsed.success) {
    throw new UsageError(describeIssues(`${SPEC_FILE} (from ${source})`, parsed.error), {
      code: 'invalid-spec',
      hint: 'Fix the value named above.',
    })
  }
  // Pins are found by image repository: two components on one image would share (and fight over) one pin.
  const byImage = new Map<string, string>()
  for (const component of parsed.data.components) {
    const other = byImage.get(component.image)
    if (other !== undefined) {
      throw new UsageError(
        `${SPEC_FILE} (from ${source}): components ${other} and ${component.name} both use image ${component.image}`,
        {
          code: 'duplicate-image',
          hint: 'Give each component its own image repository, or keep one component for it.',
        },
      )
    }
    byImage.set(component.image, component.name)
  }
  return parsed.data
}

function mergeComponents(current: readonly ComponentSpec[], added: readonly ComponentSpec[]): ComponentSpec[] {
  const result = [...current]
  for (const component of added) {
    const at = result.findIndex((c) => c.name === component.name)
    if (at >= 0) result[at] = { ...result[at]!, ...component }
    else result.push(component)
  }
  return result
}

function mergeEnvironments(current: readonly EnvironmentSpec[], added: readonly string[]): EnvironmentSpec[] {
  const result = [...current]
  for (const name of added) if (!result.some((e) => e.name === name)) result.push({ name })
  return result
}

async function loadSnapshot(source: string, readStdin?: () => Promise<string>): Promise<Snapshot> {
  let text: string
  if (source === '-') {
    text = readStdin ? await readStdin() : await readAllStdin()
  } else {
    try {
      text = await readFile(source, 'utf8')
    } catch (error) {
      throw new UsageError(
        `--from-snapshot ${source}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        {
          code: 'snapshot-unreadable',
          hint: 'Save it with: kubectl get snapshot NAME -o yaml > snapshot.yaml',
        },
      )
    }
  }
  return parseSnapshot(text, source === '-' ? 'stdin' : source)
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function snapshotComponents(snapshot: Snapshot, source: string): ComponentSpec[] {
  return snapshot.components.map((component, index) => ({
    name: checkName('component name', component.name, `${source}: spec.components[${index}].name`),
    image: `${component.image.registry}/${component.image.path}`,
  }))
}

function snapshotPins(snapshot: Snapshot, spec: RepoSpec): Map<string, string> {
  const pins = new Map<string, string>()
  for (const component of snapshot.components) {
    const image = `${component.image.registry}/${component.image.path}`
    const target = spec.components.find((c) => c.name === component.name && c.image === image)
    if (target && component.image.digest) pins.set(target.name, component.image.digest)
  }
  return pins
}

async function resolvePins(
  spec: Pick<RepoSpec, 'components' | 'tag'>,
  given: DigestResolver | undefined,
  progress?: (message: string) => void,
): Promise<Map<string, string>> {
  const pins = new Map<string, string>()
  const { resolver, close } = given ? { resolver: given, close: async () => {} } : await registryResolver()
  try {
    await resolveEach(spec, resolver, pins, progress)
  } finally {
    await close()
  }
  return pins
}

async function resolveEach(
  spec: Pick<RepoSpec, 'components' | 'tag'>,
  resolver: DigestResolver,
  pins: Map<string, string>,
  progress?: (message: string) => void,
): Promise<void> {
  await Promise.all(
    spec.components.map(async (component) => {
      const reference = `${component.image}:${spec.tag}`
      try {
        pins.set(component.name, await resolver(reference))
        progress?.(`pinned ${reference} to ${pins.get(component.name)}`)
      } catch (error) {
        throw new UserError(`--pin: cannot resolve ${reference}: ${(error as Error).message}`, {
          code: 'pin-failed',
          hint: 'Check that the tag exists and that docker config credentials allow reading it, or run without --pin: Renovate pins on its first run.',
          cause: error,
        })
      }
    }),
  )
}

/** The registry client is imported only for --pin: it pulls in undici. */
async function registryResolver(): Promise<{ resolver: DigestResolver; close: () => Promise<void> }> {
  const registry = await import('../registry/index.js')
  const client = registry.createRegistryClient({})
  return {
    resolver: async (reference) => (await client.resolveDigest(reference)).digest,
    close: () => client.close(),
  }
}

export interface IntegrationTestRequest extends RepoChangeOptions {
  /** The environment overlay Snapshots are deployed on top of. */
  readonly env?: string | undefined
  /** Name of the IntegrationTestScenario and its Pipeline. */
  readonly name?: string | undefined
  /** The URL Konflux clones this repo from; recorded as repoURL (Argo CD reads the same URL). */
  readonly repoUrl?: string | undefined
  /** The Konflux ComponentGroup the scenario tests, for the ComponentGroup model (instead of the application). */
  readonly componentGroup?: string | undefined
}

/**
 * `konflux-gitops integration add` (issue 8): records `integrationTest` in the spec and reconciles, so the
 * scenario and pipeline go through the same ledger, conflict handling and commit as every generated file.
 */
export async function enableIntegrationTest(request: IntegrationTestRequest): Promise<ScaffoldResult> {
  if (request.env !== undefined) checkName('environment name', request.env, `--env ${request.env}`)
  if (request.name !== undefined) checkScenarioName(request.name, `--name ${request.name}`)
  const state = await openState(request, 'integration add')
  const current = state.current!.spec
  if (request.env !== undefined) findEnvironment(current, request.env)
  const repoURL = request.repoUrl ?? current.repoURL ?? (await remoteUrl(state.dir))
  if (repoURL === undefined) {
    throw new UsageError(
      'cannot tell the URL Konflux clones this repo from: no repoURL in the spec, no origin remote',
      {
        code: 'missing-repo-url',
        hint: 'Pass --repo-url https://github.com/OWNER/REPO.git',
      },
    )
  }
  const integrationTest = {
    ...current.integrationTest,
    ...defined({ env: request.env, name: request.name, componentGroup: request.componentGroup }),
  }
  const spec = validateSpec({ ...current, integrationTest, repoURL: withoutCredentials(repoURL) }, 'integration add')
  const name = spec.integrationTest?.name ?? `${spec.app}-deploy-and-test`
  if (request.name === undefined) checkScenarioName(name, `app ${spec.app} (the default --name ${name})`)
  return applySpecChange({ ...request, command: 'integration add' }, state, {
    spec,
    message: `konflux-gitops: add integration test ${name}`,
  })
}

/** An IntegrationTestScenario (and its Pipeline) name must be a DNS-1035 label: a letter first, at most 63. */
function checkScenarioName(value: string, flag: string): void {
  if (value.length > K8S_NAME_LIMIT || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    throw new UsageError(
      `${flag}: IntegrationTestScenario name "${value}" must be a DNS-1035 label (lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most ${K8S_NAME_LIMIT} characters; this one has ${value.length})`,
      { code: 'invalid-name', hint: 'Give a shorter name that starts with a letter with --name.' },
    )
  }
}
