import type { AddressInfo } from 'node:net'
import { type DestinationStream, type Logger, pino } from 'pino'
import { requireInstalled } from '../cli/optional-dependency.js'
import type { Snapshot } from '../snapshot/index.js'
import type { RetagExecutor } from './executor.js'
import {
  DEFAULT_CLAIM_TTL_MS,
  type Journal,
  type JournalLocation,
  openJournal,
  type PlannedRetag,
} from './journal/index.js'
import type { KubeSource, KubeSourceOptions } from './kube-source.js'
import { createMetrics } from './metrics.js'
import type { NotificationDrain, NotificationEvent, ReleaserNotify } from './notifications.js'
import { isStorageError, JournalWatch, StateLock } from './state.js'
import { createWebhookServer, DEFAULT_BODY_LIMIT } from './webhook.js'
import { Worker, type WorkerEvent, type WorkerOptions } from './worker.js'

export interface RegistryObserver {
  /** One HTTP response (or `error` for a connection failure) from a registry, for /metrics. */
  onResponse(registry: string, code: number | 'error'): void
}

export interface ReleaserConfig {
  /** The journal: SQLite under a state directory (one replica) or PostgreSQL (replicas share it). */
  readonly journal: JournalLocation
  /** How long a claimed step stays this replica's without renewal (renewed every third of it while alive). */
  readonly claimTtlMs?: number
  /** With PostgreSQL: this replica's name across restarts (the pod name); its earlier run's claims are free at once. */
  readonly replicaId?: string
  readonly host: string
  readonly port: number
  /** The webhook HMAC secret. Kept in memory only; never logged. */
  readonly secret: Buffer
  readonly bodyLimit?: number
  readonly plan: (snapshot: Snapshot) => PlannedRetag[] | Promise<PlannedRetag[]>
  readonly createExecutor: (observer: RegistryObserver) => Promise<RetagExecutor>
  readonly worker?: Partial<WorkerOptions>
  readonly shutdownTimeoutMs: number
  readonly logger?: Logger
  /**
   * Also watch Snapshots in a cluster; only the Lease holder watches. With SQLite the worker also runs only while
   * this replica holds the Lease; with PostgreSQL every replica works the shared queue.
   */
  readonly kubernetes?: KubeSourceOptions
  /** Tell GitOps repositories' updaters (GitHub) when their images' tags moved: a journal step after the retags. */
  readonly notify?: ReleaserNotify
  /** The registries /readyz checks: the configured ones (allowlist, mapping targets), never one from a request. */
  readonly readinessRegistries?: readonly string[]
  /** Create a missing state directory (else a missing one is an error: a volume that did not mount). */
  readonly initState?: boolean
  /** Finished releases older than this are pruned from the journal (default 30 days; 0 keeps everything). */
  readonly retentionMs?: number
}

export const DEFAULT_RETENTION_MS = 30 * 24 * 3_600_000

export interface ReleaserSummary {
  /** The journal's location (a file, or the database URL without its password). */
  readonly state: string
  readonly listen: string
  readonly reason: string
  readonly parked: number
  readonly events: { pending: number; released: number; failed: number }
  readonly retags: {
    pending: number
    moved: number
    already: number
    superseded: number
    failed: number
    refused: number
  }
  readonly notifications?: { pending: number; sent: number; failed: number }
}

export interface ReleaserHandle {
  /** `http://host:port` the webhook listens on (the real port when 0 was asked). */
  readonly url: string
  /** The journal's location, safe to print. */
  readonly journal: string
  readonly logger: Logger
  stop(reason: string): Promise<ReleaserSummary>
}

/** JSON logs on stderr. Paths that could ever carry a credential are censored, as a second line of defence. */
export function createLogger(
  level = process.env.KONFLUX_GITOPS_LOG_LEVEL ?? 'info',
  destination: DestinationStream = pino.destination({ fd: 2, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'konflux-gitops-releaser' },
      redact: {
        paths: ['secret', 'password', 'token', 'authorization', '*.authorization', 'headers.authorization', '*.secret'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}

export async function startReleaser(config: ReleaserConfig): Promise<ReleaserHandle> {
  // Before anything opens: the Kubernetes source needs an optional dependency a default install leaves out.
  if (config.kubernetes) requireInstalled('@kubernetes/client-node', 'releaser --kubernetes')
  const logger = config.logger ?? createLogger()
  // The lock first: a second daemon on the same state must not even open the journal for writing. A shared
  // (PostgreSQL) journal is written by every replica; its claims keep them apart.
  const shared = 'databaseUrl' in config.journal
  const lock =
    'stateDir' in config.journal
      ? StateLock.acquire(config.journal.stateDir, { init: config.initState ?? false })
      : undefined
  let journal: Journal
  try {
    journal = await openJournal(config.journal, {
      planner: config.notify?.planner,
      claimTtlMs: config.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS,
      replicaId: config.replicaId,
    })
  } catch (error) {
    lock?.release()
    throw error
  }
  const watch = new JournalWatch(journal.file)
  let worker: Worker | undefined
  const metrics = createMetrics(journal, () => worker?.activeCount ?? 0)
  const executor = await config.createExecutor({
    onResponse: (registry, code) => metrics.registryResponses.inc({ registry, code: String(code) }),
  })

  let drain: NotificationDrain | undefined
  if (config.notify) {
    const { NotificationDrain } = await import('./notifications.js')
    const warned = new Set<string>()
    const onNotification = (event: NotificationEvent) => {
      const { notification } = event
      const fields = { release: notification.release, repository: notification.repository, via: notification.via }
      switch (event.kind) {
        case 'sent': {
          metrics.notifications.inc({ result: event.status })
          metrics.eventToNotification.observe(Math.max(0, Date.now() - notification.receivedAt) / 1000)
          const warning = config.notify?.isWarning?.(event.status) ?? false
          // An answer like "no dashboard" is the same for every release: said once per repository, not per Snapshot.
          if (warning && warned.has(`${notification.repository}\n${event.status}`)) break
          if (warning) warned.add(`${notification.repository}\n${event.status}`)
          logger[warning ? 'warn' : 'info'](
            { ...fields, status: event.status, ms: Math.round(event.durationMs) },
            event.message,
          )
          break
        }
        case 'retry':
          metrics.notifications.inc({ result: 'retry' })
          logger.warn(
            { ...fields, attempt: event.attempt, delayMs: event.delayMs, error: event.error },
            'notification failed, will retry',
          )
          break
        case 'failed':
          metrics.notifications.inc({ result: 'failed' })
          logger.error(
            { ...fields, attempt: event.attempt, error: event.error },
            'notification failed; retry with `konflux-gitops releaser retry`',
          )
          break
      }
    }
    drain = new NotificationDrain(journal, config.notify, onNotification)
  }

  const onWorkerEvent = (event: WorkerEvent) => {
    // A settled retag may have finished its event, which queued its notifications.
    if (event.kind !== 'retry') drain?.wake()
    const { retag } = event
    const fields = {
      release: retag.release,
      snapshot: retag.snapshot,
      component: retag.component,
      tag: retag.target,
      digest: retag.digest,
    }
    switch (event.kind) {
      case 'done':
        metrics.retags.inc({ result: event.outcome.action })
        metrics.retagDuration.observe({ action: event.outcome.action }, event.durationMs / 1000)
        metrics.eventToTag.observe(Math.max(0, Date.now() - retag.receivedAt) / 1000)
        logger.info(
          { ...fields, action: event.outcome.action, from: event.outcome.fromDigest, ms: Math.round(event.durationMs) },
          event.outcome.action === 'moved' ? 'tag moved' : 'tag already there',
        )
        for (const warning of event.outcome.warnings ?? []) logger.warn({ ...fields, warning }, 'retag warning')
        break
      case 'superseded':
        metrics.retags.inc({ result: 'superseded' })
        logger.info({ ...fields, by: event.by }, 'superseded by a newer Snapshot')
        break
      case 'retry':
        metrics.retags.inc({ result: 'retry' })
        logger.warn(
          { ...fields, attempt: event.attempt, status: event.status, delayMs: event.delayMs, error: event.error },
          'retag attempt failed, will retry',
        )
        break
      case 'refused':
        metrics.retags.inc({ result: 'refused' })
        logger.error({ ...fields, error: event.error }, 'retag refused: the digest is not signed by a trusted key')
        break
      case 'failed':
        metrics.retags.inc({ result: 'failed' })
        logger.error(
          { ...fields, attempt: event.attempt, status: event.status, error: event.error },
          'retag failed; retry with `konflux-gitops releaser retry`',
        )
        break
    }
  }
  worker = new Worker(journal, executor, config.worker, onWorkerEvent)
  // No registry work while the journal cannot record it (lost, full): it would only be redone.
  worker.paused = () => watch.problem() !== undefined
  // Said once per outage, not per poll: the database may be down for a while.
  let claimFailing = false
  const claimFailed = (error: unknown) => {
    if (isStorageError(error)) storageFailed(error, 'claim')
    if (!claimFailing) logger.warn({ error: (error as Error).message }, 'claiming steps failed; retrying')
    claimFailing = true
  }
  worker.onClaimError = claimFailed
  if (drain) drain.onClaimError = claimFailed

  const storageFailed = (error: unknown, during: string) => {
    const first = !watch.failing
    watch.writeFailed(error)
    if (first)
      logger.error({ error: (error as Error).message, during }, 'journal write failed; not ready until it works')
  }
  const storageOk = () => {
    if (!watch.failing) return
    watch.writeSucceeded()
    logger.info('journal writes work again')
  }

  // Retention: a batch of old finished releases every minute, more batches while there is a backlog.
  const retentionMs = config.retentionMs ?? DEFAULT_RETENTION_MS
  let pruneTimer: NodeJS.Timeout | undefined
  const prune = async () => {
    pruneTimer = undefined
    if (retentionMs <= 0 || !journal.isOpen || watch.problem() !== undefined) return schedulePrune(60_000)
    try {
      const removed = await journal.prune(Date.now() - retentionMs)
      if (removed > 0) logger.info({ removed, olderThanDays: retentionMs / 86_400_000 }, 'pruned finished releases')
      schedulePrune(removed >= 500 ? 50 : 60_000)
    } catch (error) {
      if (isStorageError(error)) storageFailed(error, 'retention')
      else logger.error({ error: (error as Error).message }, 'retention failed')
      schedulePrune(60_000)
    }
  }
  const schedulePrune = (ms: number) => {
    if (shuttingDown) return
    pruneTimer = setTimeout(() => void prune(), ms)
    pruneTimer.unref()
  }

  let shuttingDown = false
  let kube: KubeSource | undefined
  const readiness = { at: 0, value: { ready: false, reasons: [] as string[] } }
  const ready = async () => {
    if (shuttingDown) return { ready: false, reasons: ['shutting down'] }
    if (!journal.isOpen) return { ready: false, reasons: ['journal closed'] }
    // Not cached: a journal that vanished or filled its disk must stop the traffic at once.
    if (watch.lost) return { ready: false, reasons: [watch.problem()!] }
    try {
      await journal.probeWrite()
      storageOk()
    } catch (error) {
      storageFailed(error, 'readiness probe')
      return { ready: false, reasons: [watch.problem() ?? 'journal write failed'] }
    }
    // With SQLite only the Lease holder works its journal: route webhook traffic to it alone. A shared journal
    // (PostgreSQL) is worked by every replica, and every replica accepts webhooks.
    if (kube && !shared && !kube.isLeader()) return { ready: false, reasons: ['not the leader (standby replica)'] }
    if (Date.now() - readiness.at < 5000) return readiness.value
    const reasons: string[] = []
    for (const registry of config.readinessRegistries ?? []) {
      const ok = await executor.reachable(registry, AbortSignal.timeout(3000)).catch(() => false)
      if (!ok) reasons.push(`registry ${registry} unreachable`)
    }
    readiness.at = Date.now()
    readiness.value = { ready: reasons.length === 0, reasons }
    return readiness.value
  }

  const server = createWebhookServer({
    journal,
    secret: config.secret,
    bodyLimit: config.bodyLimit ?? DEFAULT_BODY_LIMIT,
    plan: config.plan,
    onAccepted: (id, snapshot, duplicate) => {
      metrics.webhookEvents.inc({ result: duplicate ? 'duplicate' : 'accepted' })
      logger.info(
        { release: id, snapshot: snapshot.name, application: snapshot.application, duplicate },
        duplicate ? 'Snapshot already accepted' : 'Snapshot accepted',
      )
      if (!duplicate) worker?.wake()
    },
    onRetried: (id, count) => {
      logger.info({ release: id, retried: count }, 'release queued for retry')
      worker?.wake()
      drain?.wake()
    },
    onRejected: (status, reason) => {
      metrics.webhookEvents.inc({ result: String(status) })
      logger.warn({ status, reason: reason.slice(0, 500) }, 'webhook request rejected')
    },
    onError: (error) => logger.error({ error: (error as Error).message }, 'webhook handler failed'),
    ready,
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    isShuttingDown: () => shuttingDown,
    journalProblem: () => watch.problem(),
    onStorageError: (error) => storageFailed(error, 'webhook'),
    onStorageOk: storageOk,
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  if (config.kubernetes) {
    const { startKubeSource } = await import('./kube-source.js')
    kube = await startKubeSource(config.kubernetes, {
      journal,
      logger,
      onAccepted: (id, snapshot, duplicate) => {
        metrics.kubernetesEvents.inc({ result: duplicate ? 'duplicate' : 'accepted' })
        if (!duplicate) {
          logger.info({ release: id, snapshot: snapshot.name, application: snapshot.application }, 'Snapshot accepted')
          worker?.wake()
        }
      },
      onLeadership: (leading) => {
        if (shared) return
        if (leading) {
          worker!.start()
          drain?.start()
        } else {
          void worker!.stop(config.shutdownTimeoutMs)
          void drain?.stop(config.shutdownTimeoutMs)
        }
      },
    })
  }
  if (!config.kubernetes || shared) {
    worker.start()
    drain?.start()
  }
  schedulePrune(1000)
  // A live replica keeps its claims; a killed one's expire and another replica (or the next start) takes them over.
  const ttl = config.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS
  const renew = setInterval(
    () => {
      if (journal.isOpen) journal.renewClaims().catch((error) => logger.warn({ error: error.message }, 'renew failed'))
    },
    Math.max(50, Math.floor(ttl / 3)),
  )
  renew.unref()
  const pending = await journal.pendingCount()
  logger.info(
    {
      listen: url,
      state: journal.location,
      pending,
      ...(config.notify
        ? { notify: config.notify.describe ?? 'on', notifications: await journal.notificationCounts() }
        : {}),
    },
    'releaser started',
  )

  let stopped: Promise<ReleaserSummary> | undefined
  const stop = (reason: string): Promise<ReleaserSummary> => {
    stopped ??= (async () => {
      shuttingDown = true
      if (pruneTimer) clearTimeout(pruneTimer)
      logger.info({ reason }, 'shutting down: no new events, finishing in-flight retags')
      await kube?.stop()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const parked = await worker!.stop(config.shutdownTimeoutMs)
      await drain?.stop(Math.min(config.shutdownTimeoutMs, 5000))
      server.closeAllConnections()
      await closed
      clearInterval(renew)
      // A stalled registry connection must not hold the exit past --shutdown-timeout: when retags were parked (or
      // closing does not finish soon), every connection is dropped.
      if (parked > 0) await executor.destroy?.()
      else {
        let timer: NodeJS.Timeout | undefined
        const closing = Promise.resolve(executor.close?.()).then(() => 'closed' as const)
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), 2000)
        })
        if ((await Promise.race([closing, late])) === 'late') await executor.destroy?.()
        clearTimeout(timer)
      }
      const counts = {
        ...(await journal.counts()),
        ...(config.notify ? { notifications: await journal.notificationCounts() } : {}),
      }
      await journal.close()
      lock?.release()
      logger.info({ parked, ...counts }, 'releaser stopped')
      return { state: journal.location, listen: url, reason, parked, ...counts }
    })()
    return stopped
  }
  return { url, journal: journal.location, logger, stop }
}
