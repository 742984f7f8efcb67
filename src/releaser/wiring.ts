import { readFile } from 'node:fs/promises'
import { UsageError } from '../cli/errors.js'
import { parseImageRef } from '../image-ref/index.js'
import type { Snapshot } from '../snapshot/index.js'
import { type Allowlist, allowlistViolation, isAllowed, parseAllowEntry } from './allowlist.js'
import type { RegistryObserver } from './daemon.js'
import { RegistryUnavailable, type RetagExecutor, RetagFailure } from './executor.js'
import type { PlannedRetag } from './journal/index.js'

type PlanFactsInput = Parameters<ReleaseModule['readPlanFacts']>[1]
type PlanFacts = Awaited<ReturnType<ReleaseModule['readPlanFacts']>>

/**
 * What `{{ timestamp }}`, `{{ labels.X }}`, `{{ oci_version }}` and `{{ incrementer }}` read from the registry, by
 * src/release's own readPlanFacts (the reader `konflux-gitops release` uses), bounded by a timeout.
 */
export interface PlanFactsReader {
  read(input: PlanFactsInput): Promise<PlanFacts>
  close(): Promise<void>
}

/** How long intake waits for the registry reads one Snapshot's tags need before answering 503. */
export const PLAN_FACTS_TIMEOUT_MS = 15_000

/**
 * The releaser's reader of plan facts: its own registry client (same src/registry client and credentials as the
 * retag engine; few retries, short request timeouts, because a webhook sender is waiting), made on first use.
 * A registry that does not answer in time, or answers with something retryable (5xx, a reset), is a
 * RegistryUnavailable: the webhook answers 503 with Retry-After and the Kubernetes watch tries the Snapshot again.
 */
export function createPlanFactsReader(options: { timeoutMs?: number } = {}): PlanFactsReader {
  const timeoutMs = options.timeoutMs ?? PLAN_FACTS_TIMEOUT_MS
  let client: Promise<import('../registry/index.js').RegistryClient> | undefined
  const clientOnce = () => {
    client ??= import('../registry/index.js').then((registry) =>
      registry.createRegistryClient({ retries: 2, requestTimeoutMs: Math.min(10_000, timeoutMs) }),
    )
    return client
  }
  return {
    async read(input) {
      const [release, registry, reader] = await Promise.all([
        import('../release/index.js'),
        import('../registry/index.js'),
        clientOnce(),
      ])
      let timer: NodeJS.Timeout | undefined
      const work = release.readPlanFacts(reader, input)
      // The abandoned reads still end on their own (request timeouts); their failure is not unhandled.
      work.catch(() => {})
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RegistryUnavailable(
                `the registry did not answer within ${timeoutMs / 1000} s reading the image facts and tag lists the tags need`,
              ),
            ),
          timeoutMs,
        )
      })
      try {
        return await Promise.race([work, timeout])
      } catch (error) {
        if (error instanceof registry.RegistryError && error.retryable) {
          throw new RegistryUnavailable(`reading what the tags need: ${error.message}`, {
            cause: error,
            ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          })
        }
        throw error
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      if (client) await (await client).close()
    },
  }
}

/**
 * Snapshot → retags, by the same planner as `konflux-gitops release` (mapping file or ReleasePlan, tag templates).
 * Planning happens when the webhook accepts the Snapshot, so `{{ release_timestamp }}` is the acceptance time and
 * the stored plan never changes on a retry or restart. Tags that need the registry (`{{ timestamp }}`,
 * `{{ labels.X }}`, `{{ oci_version }}`, `{{ incrementer }}`) are read here too, with `facts`.
 */
export async function loadPlanner(options: {
  mappingFile: string | undefined
  tags: readonly string[]
  /** Undefined only with --allow-any-registry. */
  allow?: Allowlist | undefined
  /** Registry reads for the tags that need them; without it such tags are refused. */
  facts?: PlanFactsReader | undefined
}): Promise<(snapshot: Snapshot) => Promise<PlannedRetag[]>> {
  const release = await import('../release/index.js')
  release.checkTagFlags(options.tags)
  const mapping = await loadMapping(options.mappingFile)
  const tags = [...options.tags]
  return (snapshot) => planSnapshot(release, snapshot, mapping, tags, options.allow, options.facts)
}

/** The `allow:` key of the releaser config (the --mapping file), or undefined. */
async function configKey(file: string | undefined, key: string): Promise<unknown> {
  if (file === undefined) return undefined
  const { parseAllDocuments } = await import('yaml')
  // loadMapping has already reported a file that does not parse; here only the one key matters.
  const [doc] = parseAllDocuments(await readFile(file, 'utf8')).filter((d) => 'contents' in d && d.contents !== null)
  const value = doc && 'toJS' in doc ? (doc.toJS() as Record<string, unknown> | null) : null
  if (!value || typeof value !== 'object') return undefined
  return value[key]
}

/**
 * The registries and repositories the daemon may read from and write to: `allow: {sources: [...], targets: [...]}`
 * in the config plus --allow-source / --allow-target. Targets default to the repositories the --mapping file
 * names. Undefined when no source is allowed at all: the daemon then refuses to start unless --allow-any-registry.
 */
export async function loadAllowlist(options: {
  mappingFile: string | undefined
  sources: readonly string[]
  targets: readonly string[]
}): Promise<Allowlist | undefined> {
  const file = options.mappingFile ?? 'config'
  const raw = await configKey(options.mappingFile, 'allow')
  const fromConfig = { sources: [] as string[], targets: [] as string[] }
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new UsageError(`${file}: allow must be an object {sources: [...], targets: [...]}`)
    }
    for (const key of ['sources', 'targets'] as const) {
      const list = (raw as Record<string, unknown>)[key]
      if (list === undefined) continue
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
        throw new UsageError(`${file}: allow.${key} must be a list of registries or repositories`)
      }
      fromConfig[key].push(...list.map((v, i) => parseAllowEntry(v as string, `${file}: allow.${key}[${i}]`)))
    }
  }
  const sources = [...fromConfig.sources, ...options.sources.map((v) => parseAllowEntry(v, '--allow-source'))]
  let targets = [...fromConfig.targets, ...options.targets.map((v) => parseAllowEntry(v, '--allow-target'))]
  if (targets.length === 0) {
    const mapping = await loadMapping(options.mappingFile)
    targets = (mapping?.components ?? []).flatMap((c) => (c.targets ?? []).map((t) => t.repository.toLowerCase()))
  }
  if (sources.length === 0) return undefined
  return { sources, targets: [...new Set(targets)] }
}

/** The --mapping file (mapping object or whole ReleasePlan), parsed by the release planner's own parser. */
export async function loadMapping(file: string | undefined): Promise<Mapping | undefined> {
  if (file === undefined) return undefined
  const release = await import('../release/index.js')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--mapping ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`)
  }
  return release.parseMapping(text, file)
}

type ReleaseModule = typeof import('../release/index.js')
export type Mapping = import('../release/index.js').Mapping

/**
 * One Snapshot through the release planner, into the journal's retag rows.
 *
 * Tags are planned here, at intake, before the journal commit, and never in the worker: the journal stores one
 * step per concrete `repository:tag`, and its newest-wins (a newer Snapshot supersedes an older one's step for the
 * same tag) and no-backwards (a tag never moves to an older Snapshot than it points at) rules compare Snapshots
 * per tag, so the tag must be known when the step is stored. A plan made in the worker could also change between
 * attempts ({{ incrementer }} sees the tags the previous attempt pushed; a retried step would add a second
 * number). So the registry reads happen before the 202, and the stored plan is final. The cost: two Snapshots
 * accepted before the first one's tags land read the same tag list, so both plan the same `{{ incrementer }}`
 * tag and newest-wins gives it to the newer one (as two `release` runs started together would).
 */
export async function planSnapshot(
  release: ReleaseModule,
  snapshot: Snapshot,
  mapping: Mapping | undefined,
  tags: string[],
  allow?: Allowlist,
  facts?: PlanFactsReader,
): Promise<PlannedRetag[]> {
  const input = { snapshot, mapping, tags, releaseTime: new Date() }
  const images = snapshot.components.map((c) => ({
    component: c.name,
    repository: `${c.image.registry}/${c.image.path}`,
  }))
  const refuse = (violation: string) =>
    new UsageError(`Snapshot ${snapshot.name}: ${violation}`, {
      code: 'not-allowed',
      hint: 'The releaser only touches the registries and repositories in its allow: list (--allow-source, --allow-target).',
    })
  // Before any registry read: an image from a registry the releaser may not touch is refused unread.
  const sourceViolation = allow ? allowlistViolation(allow, [], images) : undefined
  if (sourceViolation) throw refuse(sourceViolation)
  const needImageConfig = release.componentsNeedingImageConfig(input)
  const needTagList = release.repositoriesNeedingTagList(input)
  let read: PlanFacts = {}
  if (needImageConfig.length > 0 || needTagList.length > 0) {
    if (!facts) {
      throw new UsageError(
        `Snapshot ${snapshot.name}: {{ timestamp }}, {{ labels.X }}, {{ oci_version }} and {{ incrementer }} tags need registry reads this planner was not given`,
      )
    }
    if (allow) {
      const sources = new Set(images.map((i) => i.repository))
      for (const repo of needTagList) {
        const name = `${repo.registry}/${repo.path}`
        if (!sources.has(name) && !isAllowed(allow.targets, name)) {
          throw refuse(`target ${name} is not in the releaser's allowed targets`)
        }
      }
    }
    read = await facts.read(input)
  }
  const plan = release.planRelease({ ...input, ...read })
  const retags = plan.retags.map((retag) => ({
    component: retag.component,
    source: `${retag.source.registry}/${retag.source.path}@${retag.source.digest}`,
    registry: retag.target.registry,
    repository: `${retag.target.registry}/${retag.target.path}`,
    tag: retag.tag,
    digest: retag.source.digest,
  }))
  const violation = allow ? allowlistViolation(allow, retags, images) : undefined
  if (violation) throw refuse(violation)
  return retags
}

/**
 * The retag engine shared with `konflux-gitops release` (src/release RetagEngine: one lane per repository, HEAD the
 * tag and skip when in place, GET verified bytes, PUT, clear Quay's inherited expiry). The transport retries a few
 * times itself; what still fails comes back to the worker with the registry's `retryable` and `retryAfterMs`, and
 * the worker retries with its own longer backoff from the journal.
 */
export async function createRegistryExecutor(
  observer: RegistryObserver,
  options: { quay?: import('../registry/index.js').QuayOptions; verify?: VerifyConfig | undefined } = {},
): Promise<RetagExecutor> {
  const [{ createRegistryClient }, { RetagEngine }] = await Promise.all([
    import('../registry/index.js'),
    import('../release/index.js'),
  ])
  const client = createRegistryClient({
    retries: 3,
    onRequest: (event) => observer.onResponse(event.registry, event.status === 0 ? 'error' : event.status),
  })
  // Every retag is checked before it moves: a refusal settles it as `refused` in the journal (worker.ts).
  const gate =
    options.verify && options.verify.keys.length > 0
      ? (await import('../verify/index.js')).createSignatureGate(
          client,
          options.verify.keys,
          // A refused retag may be retried once Chains has signed: check again on every attempt.
          { refusalTtlMs: 0, ...(options.verify.attestation ? { attestation: options.verify.attestation } : {}) },
        )
      : undefined
  const engine = new RetagEngine(client, {
    ...(options.quay ? { quay: options.quay } : {}),
    ...(gate ? { verify: (retag) => gate(retag.source) } : {}),
  })
  return {
    async retag(request, signal) {
      const source = parseImageRef(request.source)
      const target = parseImageRef(request.repository)
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
      // An abandoned attempt (stalled, timed out) keeps its repository's lane in the engine until it really ends:
      // the next attempt waits for it, so a late PUT of an older digest can never land after a newer one.
      const work = engine.retag({
        component: request.component ?? '',
        source: { registry: source.registry, path: source.path, digest: request.digest },
        target: { registry: target.registry, path: target.path },
        tag: request.tag,
      })
      const outcome = await Promise.race([work, aborted])
      if (outcome.status === 'failed' || outcome.status === 'refused' || outcome.error) {
        const error = outcome.error!
        throw new RetagFailure(error.message, {
          retryable: error.retryable,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          ...(error.status === undefined ? {} : { status: error.status }),
          code: error.code,
        })
      }
      return {
        action: outcome.status === 'moved' ? 'moved' : 'already',
        fromDigest: outcome.previousDigest ?? null,
        warnings: outcome.warnings,
      }
    },
    async reachable(registry, signal) {
      const probe = client.transport
        .send(registry, 'GET', '/v2/', {
          access: [],
          accept: [401, 403, 404, 429, 500, 502, 503, 504],
        })
        .then(async (res) => {
          await res.body.dump()
          return true
        })
      const timeout = new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false)))
      return Promise.race([probe.catch(() => false), timeout])
    },
    close: () => client.close(),
    destroy: () => client.transport.destroy(),
  }
}

export interface VerifyConfig {
  keys: import('../verify/index.js').VerificationKey[]
  attestation?: import('../verify/index.js').AttestationPolicy
}

/**
 * The keys every released digest must be signed by: --verify-key files and the releaser config's
 * `verify: {keys: [FILE…], builderId: ID}` (top level of the --mapping file, key paths relative to it). Read before
 * the daemon starts, so a bad key is a usage error. Undefined when neither names a key.
 */
export async function loadVerifyConfig(
  flagKeys: readonly string[],
  configFile: string | undefined,
): Promise<VerifyConfig | undefined> {
  const verify = await import('../verify/index.js')
  const config = configFile === undefined ? undefined : await readTopLevel(configFile, 'verify')
  const files = [...flagKeys]
  let builderId: string | undefined
  if (config !== undefined) {
    const { dirname, resolve } = await import('node:path')
    const value = config as { keys?: unknown; builderId?: unknown }
    if (
      typeof value !== 'object' ||
      value === null ||
      !Array.isArray(value.keys) ||
      !value.keys.every((k) => typeof k === 'string')
    ) {
      throw new UsageError(`${configFile}: verify.keys must be a list of public key files`, {
        hint: 'verify: {keys: [cosign.pub]} (paths relative to the file)',
      })
    }
    files.push(...(value.keys as string[]).map((k) => resolve(dirname(configFile!), k)))
    if (value.builderId !== undefined) {
      if (typeof value.builderId !== 'string') throw new UsageError(`${configFile}: verify.builderId must be a string`)
      builderId = value.builderId
    }
  }
  if (files.length === 0) return undefined
  const keys = await verify.loadVerificationKeys(files)
  return { keys, ...(builderId ? { attestation: { builderId } } : {}) }
}

async function readTopLevel(file: string, key: string): Promise<unknown> {
  const { parseAllDocuments } = await import('yaml')
  const [doc] = parseAllDocuments(await readFile(file, 'utf8')).filter((d) => 'contents' in d && d.contents !== null)
  const value = doc && 'toJS' in doc ? (doc.toJS() as Record<string, unknown> | null) : null
  return value && typeof value === 'object' ? value[key] : undefined
}

/**
 * The releaser config's `notify:` list (top level of the --mapping file, beside the mapping), or [] when the file
 * has none or is a ReleasePlan (whose schema has no place for it).
 */
export async function loadNotifyTargets(
  file: string | undefined,
): Promise<import('../notify/index.js').NotifyTarget[]> {
  if (file === undefined) return []
  const [{ parseAllDocuments }, { parseNotifyConfig }] = await Promise.all([
    import('yaml'),
    import('../notify/index.js'),
  ])
  // loadMapping has already reported a file that does not parse; here only its notify: key matters.
  const [doc] = parseAllDocuments(await readFile(file, 'utf8')).filter((d) => 'contents' in d && d.contents !== null)
  const value = doc && 'toJS' in doc ? (doc.toJS() as Record<string, unknown> | null) : null
  if (!value || typeof value !== 'object' || value.notify === undefined) return []
  return parseNotifyConfig(value.notify, file)
}

/**
 * --notify and the config's notify: list, checked and authenticated before the daemon starts (a missing token is a
 * usage error now, not a failed notification later). Octokit's own 5xx retries are off: the journal retries each
 * notification with its own backoff and shows the failures.
 */
export async function createReleaserNotify(options: {
  targets: readonly string[]
  configTargets: readonly import('../notify/index.js').NotifyTarget[]
  via: import('../notify/index.js').NotifyVia
  apiUrl?: string | undefined
  githubApp?: { appId: string; privateKeyFile: string } | undefined
  env?: Record<string, string | undefined>
  onWarning?: (message: string) => void
  drain?: Partial<import('./notifications.js').NotificationDrainOptions>
}): Promise<import('./notifications.js').ReleaserNotify | undefined> {
  const notify = await import('../notify/index.js')
  const targets = [...options.configTargets, ...options.targets.map((t) => notify.parseNotifyTarget(t))]
  if (targets.length === 0) return undefined
  for (const target of targets) {
    if (target.updater === 'dependabot') options.onWarning?.(`${target.repository}: ${notify.DEPENDABOT_NOTE}`)
  }
  const github = await notify.createNotifyGitHub({
    apiUrl: options.apiUrl,
    githubApp: options.githubApp,
    retry: { enabled: false },
    ...(options.env ? { env: options.env } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  })
  return {
    planner: (moved) =>
      notify.planNotifications(moved, targets, options.via).map((plan) => ({
        repository: plan.repository,
        via: plan.via,
        payload: JSON.stringify(plan),
      })),
    send: async (payload) => {
      const outcome = await notify.sendNotification(
        JSON.parse(payload) as import('../notify/index.js').PlannedNotification,
        github,
      )
      return { status: outcome.status, message: outcome.message }
    },
    isWarning: (status) => !['dispatched', 'ticked', 'already-ticked'].includes(status),
    describe: targets.map((t) => `${t.repository} via ${t.via ?? options.via}`).join(', '),
    ...(options.drain ? { options: options.drain } : {}),
  }
}
