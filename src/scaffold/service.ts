import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Document } from 'yaml'
import { UsageError, UserError } from '../cli/errors.js'
import { openRepo, PushError } from '../git/index.js'
import { pinStoreFor } from '../pins/index.js'
import { renovateConfigForRepo } from '../presets/index.js'
import { parseSnapshot, type Snapshot } from '../snapshot/index.js'
import {
  type ComponentSpec,
  describeIssues,
  type EnvironmentSpec,
  type RepoSpec,
  type RepoSpecInput,
  readSpec,
  repoSpec,
  SPEC_API_VERSION,
  SPEC_FILE,
  SPEC_KIND,
} from '../spec/index.js'
import { unifiedDiff } from './diff.js'
import { applyChanges, readFiles } from './files.js'
import { checkImageRepository, checkName, checkPort, parseComponentFlag, withoutCredentials } from './inputs.js'
import { LEDGER_FILE, parseLedger } from './ledger.js'
import { planFiles } from './plan.js'
import { promptForMissing } from './prompts.js'
import { type FileChange, reconcile } from './reconcile.js'
import { flavourPlanner } from './shape.js'

/** Resolves `repo:tag` to the digest the tag points at now (the index digest for multi-arch images). */
export type DigestResolver = (reference: string) => Promise<string>

export interface RepoChangeOptions {
  /** The GitOps repo directory (created by init when missing). */
  readonly dir: string
  /** Print the diff, write nothing. */
  readonly dryRun?: boolean
  /** Replace files the user edited; let init adopt a directory that is not a konflux-gitops repo. */
  readonly force?: boolean
  /** Set `origin` to this URL. */
  readonly gitRemote?: string | undefined
  /** Push the branch to `origin` after committing. */
  readonly push?: boolean
  /** Progress for humans (stderr). */
  readonly progress?: (message: string) => void
}

/** How to authenticate a push without writing the credential into .git/config. */
interface PushAuth {
  readonly extraConfig: readonly string[]
  readonly redact: readonly string[]
}

export interface ScaffoldResult {
  directory: string
  dryRun: boolean
  created: string[]
  updated: string[]
  deleted: string[]
  unchanged: string[]
  conflicts: { path: string; reason: string }[]
  /** The new commit, or null when nothing changed (or --dry-run). */
  commit: string | null
  pushed: boolean
  /** Why the push failed (the local commit is kept). */
  pushError: string | null
  /** The unified diff of what a run writes; only with --dry-run. */
  diff: string | null
  /** Things to do by hand, such as setting repoURL. */
  notes: string[]
}

interface SpecChange {
  readonly spec: RepoSpec
  readonly pins?: ReadonlyMap<string, string>
  readonly message: string
}

interface RepoState {
  readonly dir: string
  readonly current: { spec: RepoSpec; document: Document } | undefined
}

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
  const state = await openState(request, { mustExist: false })
  if (request.github) checkGitHubRequest(request, request.github)

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
    }
    const spec = validateSpec(input, 'the flags given')
    if (current) checkSameShape(current, spec, request.dir)
    if (spec.components.length === 0) {
      throw new UsageError('init needs at least one --component NAME=IMAGE[:PORT] (or --from-snapshot FILE)', {
        code: 'missing-component',
        hint: 'For example --component api=quay.io/acme/shop/api --component web=quay.io/acme/shop/web:8080',
      })
    }
    let pins: Map<string, string> | undefined
    if (request.pin) {
      pins = snapshot ? snapshotPins(snapshot, spec) : await resolvePins(spec, request.resolveDigest, request.progress)
    }
    const names = (items: readonly { name: string }[]) => items.map((item) => item.name).join(', ')
    return {
      spec,
      ...(pins ? { pins } : {}),
      message: `konflux-gitops init: ${spec.app} (components ${names(spec.components)}; environments ${names(spec.environments)})`,
    }
  }

  const draft = await buildChange(state.current?.spec, request.gitRemote)
  if (!request.github) return applyChange(request, state, async () => draft)
  const github = await prepareGitHub(request, request.github)
  const change: SpecChange = {
    ...draft,
    spec: validateSpec({ ...draft.spec, repoURL: withoutCredentials(github.remote) }, '--github'),
  }
  return applyChange(
    { ...request, gitRemote: github.remote, push: !request.dryRun, pushAuth: github.pushAuth },
    state,
    async () => change,
  )
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
  const state = await openState(request, { mustExist: true })
  return applyChange(request, state, async (current) => {
    const wanted: ComponentSpec = { name, image, ...(port === undefined ? {} : { port }) }
    const existing = current!.components.find((c) => c.name === name)
    if (existing && JSON.stringify(existing) !== JSON.stringify(wanted)) {
      throw new UsageError(`component ${name} already exists with image ${existing.image}`, {
        code: 'component-exists',
        hint: `Edit it in ${SPEC_FILE} and run konflux-gitops init, or remove it first: konflux-gitops component remove ${name}`,
      })
    }
    const spec = validateSpec(
      { ...current!, components: existing ? current!.components : [...current!.components, wanted] },
      'component add',
    )
    const pins = request.pin
      ? await resolvePins({ ...spec, components: [wanted] }, request.resolveDigest, request.progress)
      : undefined
    return { spec, ...(pins ? { pins } : {}), message: `konflux-gitops: add component ${name} (${image})` }
  })
}

export interface ComponentRemoveRequest extends RepoChangeOptions {
  readonly name: string
}

export async function removeComponent(request: ComponentRemoveRequest): Promise<ScaffoldResult> {
  const state = await openState(request, { mustExist: true })
  return applyChange(request, state, async (current) => {
    if (!current!.components.some((c) => c.name === request.name)) {
      throw new UsageError(`component ${request.name} is not in ${SPEC_FILE}`, {
        code: 'unknown-component',
        hint: `Components: ${current!.components.map((c) => c.name).join(', ') || '(none)'}`,
      })
    }
    const spec = validateSpec(
      { ...current!, components: current!.components.filter((c) => c.name !== request.name) },
      'component remove',
    )
    return { spec, message: `konflux-gitops: remove component ${request.name}` }
  })
}

export interface EnvAddRequest extends RepoChangeOptions {
  readonly name: string
  readonly namespace?: string | undefined
  readonly destinationServer?: string | undefined
  readonly autoMerge?: boolean | undefined
}

export async function addEnvironment(request: EnvAddRequest): Promise<ScaffoldResult> {
  const name = checkName('environment name', request.name, `env add ${request.name}`)
  if (request.namespace !== undefined) checkName('namespace', request.namespace, `--namespace ${request.namespace}`)
  const state = await openState(request, { mustExist: true })
  return applyChange(request, state, async (current) => {
    const wanted: EnvironmentSpec = {
      name,
      ...defined({
        namespace: request.namespace,
        destinationServer: request.destinationServer,
        autoMerge: request.autoMerge,
      }),
    }
    const existing = current!.environments.find((e) => e.name === name)
    if (
      existing &&
      JSON.stringify({ ...existing, frozen: undefined }) !==
        JSON.stringify({ ...existing, ...wanted, frozen: undefined })
    ) {
      throw new UsageError(`environment ${name} already exists with other settings`, {
        code: 'environment-exists',
        hint: `Edit it in ${SPEC_FILE} and run konflux-gitops init, or remove it first: konflux-gitops env remove ${name}`,
      })
    }
    const spec = validateSpec(
      { ...current!, environments: existing ? current!.environments : [...current!.environments, wanted] },
      `env add ${name}`,
    )
    return { spec, message: `konflux-gitops: add environment ${name}` }
  })
}

export interface EnvRemoveRequest extends RepoChangeOptions {
  readonly name: string
}

export async function removeEnvironment(request: EnvRemoveRequest): Promise<ScaffoldResult> {
  const state = await openState(request, { mustExist: true })
  return applyChange(request, state, async (current) => {
    if (!current!.environments.some((e) => e.name === request.name)) {
      throw new UsageError(`environment ${request.name} is not in ${SPEC_FILE}`, {
        code: 'unknown-environment',
        hint: `Environments: ${current!.environments.map((e) => e.name).join(', ') || '(none)'}`,
      })
    }
    const spec = validateSpec(
      { ...current!, environments: current!.environments.filter((e) => e.name !== request.name) },
      'env remove',
    )
    return { spec, message: `konflux-gitops: remove environment ${request.name}` }
  })
}

// ---------------------------------------------------------------------------------------------------------------

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

async function nearestExisting(path: string): Promise<string> {
  let current = path
  for (;;) {
    try {
      await stat(current)
      return current
    } catch {
      const parent = dirname(current)
      if (parent === current) return current
      current = parent
    }
  }
}

/** Where the repo is and what spec it holds; refuses a folder inside another repo, or a foreign repo. */
async function openState(options: RepoChangeOptions, { mustExist }: { mustExist: boolean }): Promise<RepoState> {
  const dir = resolve(options.dir)
  const existing = await nearestExisting(dir)
  const top = await openRepo(existing).topLevel()
  const realDir = existing === dir ? await realpath(dir) : dir
  if (top !== undefined && resolve(top) !== realDir) {
    throw new UsageError(`${dir} is inside the git repository ${top}, not the top of a repository`, {
      code: 'inside-another-repo',
      hint: `A GitOps repo must be its own repository: use a directory outside ${top} (or ${top} itself).`,
    })
  }
  const current = await readSpec(dir)
  if (!current && mustExist) {
    throw new UsageError(`${dir} has no ${SPEC_FILE}: it is not a konflux-gitops repo`, {
      code: 'not-a-konflux-gitops-repo',
      hint: `Create it first: konflux-gitops init ${options.dir} --app NAME --component NAME=IMAGE`,
    })
  }
  if (!current && !options.force && existing === dir) {
    const entries = (await readdir(dir)).filter((entry) => entry !== '.git')
    const repo = openRepo(dir)
    const hasHistory = top !== undefined && (await repo.hasCommits())
    if (entries.length > 0 || hasHistory) {
      throw new UsageError(
        `${dir} already holds ${hasHistory ? 'a git repository' : 'files'} without ${SPEC_FILE}: not a konflux-gitops repo`,
        {
          code: 'not-a-konflux-gitops-repo',
          hint: 'Use a new or empty directory, or pass --force to add the konflux-gitops layout to it.',
        },
      )
    }
  }
  return { dir, current: current ? { spec: current.spec, document: current.document } : undefined }
}

const GITHUB_REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/

/**
 * `--github OWNER/REPO`: make sure the repository exists (private unless --no-private), empty when created, and
 * build the push credentials as an `http.extraHeader` given on the command line only, so the token never lands in
 * .git/config, the spec or any message.
 */
function checkGitHubRequest(request: InitRequest, fullName: string): [owner: string, name: string] {
  const match = GITHUB_REPO.exec(fullName)
  if (!match) {
    throw new UsageError(`--github ${fullName}: expected OWNER/REPO`, { hint: 'For example --github acme/shop-gitops' })
  }
  if (request.gitRemote) {
    throw new UsageError('--github and --git-remote both name the remote: give one of them', {
      hint: '--github creates the repository on GitHub and pushes there; --git-remote pushes to any URL.',
    })
  }
  return [match[1]!, match[2]!]
}

async function prepareGitHub(
  request: InitRequest,
  fullName: string,
): Promise<{ remote: string; pushAuth: PushAuth | undefined }> {
  const [owner, name] = checkGitHubRequest(request, fullName)
  const { createGitHubClient, tokenFromEnv } = await import('../github/index.js')
  const client = await createGitHubClient({
    apiUrl: request.githubApiUrl,
    onNotice: (message) => request.progress?.(message),
  })
  let remote: string
  if (request.dryRun) {
    const found = await client.getRepository(owner, name)
    remote =
      found?.cloneUrl ??
      `${client.apiUrl.replace(/\/api\/v3\/?$/, '').replace('//api.github.com', '//github.com')}/${owner}/${name}.git`
  } else {
    const { repository, created } = await client.ensureRepository(owner, name, {
      private: request.private ?? true,
      autoInit: false,
      description: 'GitOps repository managed with konflux-gitops',
    })
    request.progress?.(`${created ? 'created' : 'using'} GitHub repository ${repository.fullName}`)
    remote = repository.cloneUrl
  }
  const token = tokenFromEnv() ?? ''
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
  return {
    remote,
    pushAuth: { extraConfig: [`http.extraHeader=Authorization: Basic ${basic}`], redact: [token, basic] },
  }
}

async function applyChange(
  options: RepoChangeOptions & { pushAuth?: PushAuth | undefined },
  state: RepoState,
  change: (current: RepoSpec | undefined) => Promise<SpecChange>,
): Promise<ScaffoldResult> {
  const { dir } = state
  const { spec, pins, message } = await change(state.current?.spec)
  const ledgerText = (await readFiles(dir, [LEDGER_FILE])).get(LEDGER_FILE)
  const ledger = parseLedger(ledgerText)
  const store = pinStoreFor(spec)
  const mergedPaths = [
    ...flavourPlanner(spec).mergedPaths(spec),
    ...spec.environments.flatMap((e) => store.files(spec, e.name)),
  ]
  const files = await readFiles(dir, [...mergedPaths, ...Object.keys(ledger.files)])
  if (ledgerText !== undefined) files.set(LEDGER_FILE, ledgerText)
  const desired = planFiles({
    spec,
    previous: state.current?.spec,
    specDocument: state.current?.document,
    readText: (path) => files.get(path),
    ...(pins ? { pins } : {}),
    renovateConfig: `${JSON.stringify(renovateConfigForRepo(spec), null, 2)}\n`,
  })
  for (const [path, text] of await readFiles(
    dir,
    desired.map((file) => file.path).filter((path) => !files.has(path)),
  )) {
    files.set(path, text)
  }
  const { changes } = reconcile(desired, (path) => files.get(path), ledger, { force: options.force ?? false })

  const notes: string[] = []
  if (spec.argocd !== 'none' && spec.repoURL === undefined) {
    notes.push(
      `argocd/: Argo CD needs this repo's URL; set repoURL in ${SPEC_FILE} (or pass --git-remote URL) and run init again`,
    )
  }
  if (spec.updater === 'dependabot' && spec.repoURL !== undefined && !/github/i.test(spec.repoURL)) {
    notes.push(
      `.github/dependabot.yml: Dependabot runs only on GitHub, and ${spec.repoURL} does not look like a GitHub repository; use --updater renovate elsewhere`,
    )
  }
  const result = summarise(dir, changes, options.dryRun ?? false, notes)
  if (options.dryRun) {
    result.diff = unifiedDiff(changes)
    return result
  }

  await applyChanges(dir, changes)
  const repo = openRepo(dir)
  if (!(await repo.isRepo())) await repo.init(spec.branch)
  // Only what this run wrote: a user's uncommitted edit to a file we left alone is theirs to commit.
  const ours = changes
    .filter((c) => c.action === 'create' || c.action === 'update' || c.action === 'delete')
    .map((c) => c.path)
  result.commit = await repo.commitPaths(ours, message)
  if (options.gitRemote) await repo.setRemote('origin', options.gitRemote)
  if (options.push) {
    const branch = (await repo.currentBranch()) ?? spec.branch
    try {
      options.progress?.(`pushing ${branch} to origin`)
      await repo.push('origin', branch, options.pushAuth ?? {})
      result.pushed = true
    } catch (error) {
      if (!(error instanceof PushError)) throw error
      result.pushError = `${error.message}. The commit is kept locally; push it later with: git -C ${dir} push -u origin ${branch}`
    }
  }
  return result
}

function summarise(dir: string, changes: readonly FileChange[], dryRun: boolean, notes: string[]): ScaffoldResult {
  const paths = (action: FileChange['action']) =>
    changes.filter((change) => change.action === action).map((change) => change.path)
  return {
    directory: dir,
    dryRun,
    created: paths('create'),
    updated: paths('update'),
    deleted: paths('delete'),
    unchanged: paths('unchanged'),
    conflicts: changes
      .filter((change) => change.action === 'conflict')
      .map((change) => ({ path: change.path, reason: change.reason ?? 'edited by the user' })),
    commit: null,
    pushed: false,
    pushError: null,
    diff: null,
    notes,
  }
}

export interface IntegrationTestRequest extends RepoChangeOptions {
  /** The environment overlay Snapshots are deployed on top of. */
  readonly env?: string | undefined
  /** Name of the IntegrationTestScenario and its Pipeline. */
  readonly name?: string | undefined
  /** The URL Konflux clones this repo from; recorded as repoURL (Argo CD reads the same URL). */
  readonly repoUrl?: string | undefined
}

/**
 * `konflux-gitops integration add` (issue 8): records `integrationTest` in the spec and reconciles, so the
 * scenario and pipeline go through the same ledger, conflict handling and commit as every generated file.
 */
export async function enableIntegrationTest(request: IntegrationTestRequest): Promise<ScaffoldResult> {
  if (request.env !== undefined) checkName('environment name', request.env, `--env ${request.env}`)
  if (request.name !== undefined) checkName('scenario name', request.name, `--name ${request.name}`)
  const state = await openState(request, { mustExist: true })
  return applyChange(request, state, async (current) => {
    const repoURL = request.repoUrl ?? current!.repoURL ?? (await originUrl(state.dir))
    if (repoURL === undefined) {
      throw new UsageError(
        'cannot tell the URL Konflux clones this repo from: no repoURL in the spec, no origin remote',
        {
          code: 'missing-repo-url',
          hint: 'Pass --repo-url https://github.com/OWNER/REPO.git',
        },
      )
    }
    const integrationTest = { ...current!.integrationTest, ...defined({ env: request.env, name: request.name }) }
    const spec = validateSpec({ ...current!, integrationTest, repoURL: withoutCredentials(repoURL) }, 'integration add')
    return {
      spec,
      message: `konflux-gitops: add integration test ${spec.integrationTest?.name ?? `${spec.app}-deploy-and-test`}`,
    }
  })
}

async function originUrl(dir: string): Promise<string | undefined> {
  const { execFile } = await import('node:child_process')
  return new Promise((done) =>
    execFile('git', ['remote', 'get-url', 'origin'], { cwd: dir }, (error, stdout) =>
      done(error ? undefined : stdout.trim() || undefined),
    ),
  )
}
