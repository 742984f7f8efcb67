/**
 * The Kubernetes source: list+watch Snapshots (appstudio.redhat.com/v1alpha1), resuming from the resourceVersion
 * stored in the journal, relisting on 410 Gone, following bookmarks; each Snapshot that passes the release gate is
 * accepted into the journal like a webhook event (same Snapshot twice: one release). Mapping per application from
 * the --mapping file or else the namespace's ReleasePlan (spec.data.mapping).
 *
 * Leader election with a coordination.k8s.io Lease: only the holder watches and works, so several replicas give
 * high availability with one worker. Written here because @kubernetes/client-node has no leader elector; the
 * protocol (holder, renewTime, optimistic concurrency on resourceVersion) is small.
 */
import type { Logger } from 'pino'
import { UserError } from '../cli/errors.js'
import { parseSnapshot, releaseGate, type Snapshot } from '../snapshot/index.js'
import type { Allowlist } from './allowlist.js'
import type { AcceptInput, Journal, PlannedRetag } from './journal/index.js'
import { type Mapping, type PlanFactsReader, planSnapshot } from './wiring.js'

type K8s = typeof import('@kubernetes/client-node')
type KubeObject = {
  metadata?: {
    name?: string
    namespace?: string
    resourceVersion?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  [key: string]: unknown
}

const GROUP = 'appstudio.redhat.com'
const VERSION = 'v1alpha1'
const CURSOR = 'kubernetes:snapshots'

export interface KubeSourceOptions {
  /** Path of a kubeconfig; else KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  readonly kubeconfig: string | undefined
  readonly namespace: string | undefined
  readonly labelSelector: string | undefined
  readonly mapping: Mapping | undefined
  readonly tags: string[]
  /** What the daemon may touch; undefined only with --allow-any-registry. */
  readonly allow?: Allowlist | undefined
  /** Registry reads for `{{ timestamp }}`, `{{ labels.X }}`, `{{ oci_version }}`, `{{ incrementer }}` tags. */
  readonly facts?: PlanFactsReader | undefined
  readonly lease: { name: string; namespace: string; identity: string; durationSeconds: number }
}

export interface KubeSourceDeps {
  readonly journal: Journal
  readonly logger: Logger
  readonly onAccepted: (id: string, snapshot: Snapshot, duplicate: boolean) => void
  /** Leadership changed: start or stop the worker. */
  readonly onLeadership: (leading: boolean) => void
}

export interface KubeSource {
  isLeader(): boolean
  stop(): Promise<void>
}

function statusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown }
  return typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })

export async function startKubeSource(options: KubeSourceOptions, deps: KubeSourceDeps): Promise<KubeSource> {
  const k8s: K8s = await import('@kubernetes/client-node')
  const release = await import('../release/index.js')
  const kc = new k8s.KubeConfig()
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig)
  else kc.loadFromDefault()
  const custom = kc.makeApiClient(k8s.CustomObjectsApi)
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api)
  const log = deps.logger.child({ source: 'kubernetes' })
  const stopping = new AbortController()
  let leading = false
  let watchLoop: Promise<void> | undefined
  let watchAbort: AbortController | undefined

  const releasePlans = new Map<string, { at: number; plans: KubeObject[] }>()
  /** The Snapshot's ReleasePlan: the one for its application (or, for a ComponentGroup Snapshot, its group). */
  async function releasePlanFor(snapshot: Snapshot): Promise<KubeObject | undefined> {
    if (!snapshot.namespace) return undefined
    let cached = releasePlans.get(snapshot.namespace)
    if (!cached || Date.now() - cached.at > 30_000) {
      const list = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: snapshot.namespace,
        plural: 'releaseplans',
      })) as { items?: KubeObject[] }
      cached = { at: Date.now(), plans: list.items ?? [] }
      releasePlans.set(snapshot.namespace, cached)
    }
    return cached.plans.find((p) => {
      const spec = p.spec as { application?: string; componentGroup?: string } | undefined
      return snapshot.componentGroup
        ? spec?.componentGroup === snapshot.componentGroup
        : spec?.application === snapshot.application
    })
  }

  async function mappingFor(snapshot: Snapshot, plan: KubeObject | undefined): Promise<Mapping | undefined> {
    if (options.mapping) return options.mapping
    if (!plan) return undefined
    return release.parseMapping(JSON.stringify(plan), `ReleasePlan ${snapshot.namespace}/${plan.metadata?.name}`)
  }

  /**
   * Snapshots this process has stored in the journal. A later event for one (a status or annotation update) would
   * be a duplicate the journal keeps its first plan for, so it is not planned again: no ReleasePlan read and no
   * registry reads for tags like {{ timestamp }}. Bounded; a restarted process plans each one once more.
   */
  const acceptedKeys = new Map<string, string>()
  const remember = (key: string, id: string) => {
    acceptedKeys.set(key, id)
    if (acceptedKeys.size > 10_000) acceptedKeys.delete(acceptedKeys.keys().next().value!)
  }

  /** One Snapshot from the API: accepted when it passes the gate, with the cursor saved in the same commit. */
  async function consider(object: KubeObject, resourceVersion: string | undefined): Promise<void> {
    const where = `Snapshot ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? '?'}`
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`
    const known = acceptedKeys.get(key)
    if (known !== undefined) {
      if (resourceVersion) await deps.journal.saveCursor(CURSOR, resourceVersion)
      try {
        const again = parseSnapshot(JSON.stringify(object), where)
        if (releaseGate(again).releasable) deps.onAccepted(known, again, true)
      } catch (error) {
        if (!(error instanceof UserError)) throw error
      }
      return
    }
    let snapshot: Snapshot
    let retags: PlannedRetag[]
    try {
      snapshot = parseSnapshot(JSON.stringify(object), where)
      let gate = releaseGate(snapshot)
      // Its ReleasePlan's auto-release label or annotation has a say too (read only for otherwise releasable ones).
      const plan = gate.releasable && !options.mapping ? await releasePlanFor(snapshot) : undefined
      if (plan) {
        gate = releaseGate(snapshot, {
          releasePlan: {
            name: `${snapshot.namespace}/${plan.metadata?.name ?? '?'}`,
            labels: plan.metadata?.labels,
            annotations: plan.metadata?.annotations,
          },
        })
      }
      if (!gate.releasable) {
        log.debug({ snapshot: snapshot.name, reasons: gate.reasons }, 'Snapshot not releasable (yet)')
        if (resourceVersion) await deps.journal.saveCursor(CURSOR, resourceVersion)
        return
      }
      retags = await planSnapshot(
        release,
        snapshot,
        await mappingFor(snapshot, plan),
        options.tags,
        options.allow,
        options.facts,
      )
    } catch (error) {
      // A Snapshot or mapping that is wrong is skipped (and said so); an API failure (reading the ReleasePlan) or a
      // registry that could not be read for its tags (RegistryUnavailable) is not: it propagates, the cursor stays
      // before this Snapshot, and the watch resumes from there.
      if (!(error instanceof UserError)) throw error
      log.warn({ snapshot: where, error: error.message }, 'Snapshot skipped')
      if (resourceVersion) await deps.journal.saveCursor(CURSOR, resourceVersion)
      return
    }
    const input: AcceptInput = {
      snapshot: snapshot.name,
      namespace: snapshot.namespace,
      application: snapshot.application,
      createdAt: new Date(Date.parse(snapshot.createdAt ?? '') || Date.now()).toISOString(),
      body: JSON.stringify(object),
      source: 'kubernetes',
      retags,
    }
    const [accepted] = await deps.journal.acceptMany([input], Date.now(), { name: CURSOR, value: resourceVersion })
    remember(key, accepted!.id)
    deps.onAccepted(accepted!.id, snapshot, accepted!.duplicate)
  }

  const snapshotsPath = options.namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${options.namespace}/snapshots`
    : `/apis/${GROUP}/${VERSION}/snapshots`

  async function list(): Promise<string | undefined> {
    const result = (
      options.namespace
        ? await custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: options.namespace,
            plural: 'snapshots',
            labelSelector: options.labelSelector,
          })
        : await custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'snapshots',
            labelSelector: options.labelSelector,
          })
    ) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } }
    for (const item of result.items ?? []) await consider(item, undefined)
    const resourceVersion = result.metadata?.resourceVersion
    await deps.journal.saveCursor(CURSOR, resourceVersion)
    log.info({ items: result.items?.length ?? 0, resourceVersion }, 'listed Snapshots')
    return resourceVersion
  }

  /** Watch from `resourceVersion` until the stream ends. Returns the last version seen, or undefined after a 410. */
  function watchOnce(resourceVersion: string, signal: AbortSignal): Promise<string | undefined> {
    return new Promise((resolve) => {
      let last: string | undefined = resourceVersion
      let queue = Promise.resolve()
      let failed = false
      let stopWatch: (() => void) | undefined
      const watch = new k8s.Watch(kc)
      void watch
        .watch(
          snapshotsPath,
          { allowWatchBookmarks: true, resourceVersion, labelSelector: options.labelSelector, timeoutSeconds: 300 },
          (phase, object: KubeObject) => {
            // Events are handled one at a time, in order, so the saved cursor never skips one.
            queue = queue.then(async () => {
              if (failed) return
              try {
                await handleEvent(phase, object)
              } catch (error) {
                failed = true
                log.warn({ error: (error as Error).message }, 'could not handle a Snapshot event; resuming the watch')
                stopWatch?.()
              }
            })
          },
          (error: unknown) => {
            if (error && statusOf(error) === 410) last = undefined
            else if (error && !signal.aborted && !failed) log.warn({ error: (error as Error).message }, 'watch ended')
            void queue.then(() => resolve(last))
          },
        )
        .then((controller) => {
          stopWatch = () => controller.abort()
          signal.addEventListener('abort', () => controller.abort(), { once: true })
          if (signal.aborted || failed) controller.abort()
        })

      async function handleEvent(phase: string, object: KubeObject): Promise<void> {
        if (phase === 'ERROR') {
          const code = (object as { code?: number }).code
          if (code === 410) last = undefined
          log.info({ code, message: (object as { message?: string }).message }, 'watch error event')
          return
        }
        if (last === undefined) return
        const version = object.metadata?.resourceVersion
        if (phase === 'BOOKMARK') {
          last = version ?? last
          await deps.journal.saveCursor(CURSOR, last)
        } else if (phase === 'ADDED' || phase === 'MODIFIED') {
          await consider(object, version)
          last = version ?? last
        } else if (version) {
          last = version
          await deps.journal.saveCursor(CURSOR, last)
        }
      }
    })
  }

  async function runWatch(signal: AbortSignal): Promise<void> {
    let resourceVersion = await deps.journal.cursor(CURSOR)
    if (resourceVersion) log.info({ resourceVersion }, 'resuming the Snapshot watch')
    while (!signal.aborted) {
      try {
        resourceVersion ??= await list()
        if (!resourceVersion) throw new Error('the Snapshot list carried no resourceVersion')
        const next = await watchOnce(resourceVersion, signal)
        if (next === undefined) {
          log.info('resourceVersion expired (410 Gone): listing again')
          await deps.journal.saveCursor(CURSOR, undefined)
        }
        resourceVersion = next
        // A watch ends every few minutes, or at once after a failed event: do not spin on a broken API server.
        await sleep(500, signal)
      } catch (error) {
        if (statusOf(error) === 410) resourceVersion = undefined
        log.warn({ error: (error as Error).message }, 'Snapshot list/watch failed; retrying')
        await sleep(1000, signal)
      }
    }
  }

  function setLeading(next: boolean): void {
    if (next === leading) return
    leading = next
    log.info(
      { identity: options.lease.identity, lease: options.lease.name },
      next ? 'became leader' : 'lost leadership',
    )
    if (next) {
      watchAbort = new AbortController()
      watchLoop = runWatch(watchAbort.signal)
    } else {
      watchAbort?.abort()
    }
    deps.onLeadership(next)
  }

  const { name, namespace, identity, durationSeconds } = options.lease
  let lastRenew = 0
  /** One round of the Lease protocol: acquire when free or expired, renew when ours. Conflicts mean someone won. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date()
    let lease: import('@kubernetes/client-node').V1Lease | undefined
    try {
      lease = await coordination.readNamespacedLease({ name, namespace })
    } catch (error) {
      if (statusOf(error) !== 404) throw error
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      acquireTime: now,
    }
    if (!lease) {
      try {
        await coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } })
        return true
      } catch (error) {
        if (statusOf(error) === 409) return false
        throw error
      }
    }
    const holder = lease.spec?.holderIdentity
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0
    const expired = renewed + (lease.spec?.leaseDurationSeconds ?? durationSeconds) * 1000 < now.getTime()
    if (holder && holder !== identity && !expired) return false
    try {
      await coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { ...lease.metadata, name, namespace },
          spec: { ...spec, acquireTime: holder === identity && lease.spec?.acquireTime ? lease.spec.acquireTime : now },
        },
      })
      return true
    } catch (error) {
      if (statusOf(error) === 409) return false
      throw error
    }
  }

  const elector = (async () => {
    const retryMs = Math.max(200, (durationSeconds * 1000) / 3)
    while (!stopping.signal.aborted) {
      try {
        const won = await tryAcquireOrRenew()
        if (won) lastRenew = Date.now()
        setLeading(won)
      } catch (error) {
        log.warn({ error: (error as Error).message }, 'Lease update failed')
        // Without a renewal for a whole lease duration another replica may hold it: stop working.
        if (leading && Date.now() - lastRenew > durationSeconds * 1000) setLeading(false)
      }
      await sleep(retryMs, stopping.signal)
    }
  })()

  return {
    isLeader: () => leading,
    async stop() {
      stopping.abort()
      await elector
      watchAbort?.abort()
      await watchLoop
      if (leading) {
        // Hand over at once: an expired Lease lets another replica take it at its next round.
        try {
          const lease = await coordination.readNamespacedLease({ name, namespace })
          if (lease.spec?.holderIdentity === identity) {
            await coordination.replaceNamespacedLease({
              name,
              namespace,
              body: { ...lease, spec: { ...lease.spec, leaseDurationSeconds: 1, renewTime: new Date(0) } },
            })
          }
        } catch {
          // best effort: the Lease expires by itself
        }
        leading = false
      }
    },
  }
}
