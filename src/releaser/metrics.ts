import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Journal } from './journal/index.js'

export interface ReleaserMetrics {
  readonly registry: Registry
  readonly webhookEvents: Counter<'result'>
  readonly kubernetesEvents: Counter<'result'>
  readonly retags: Counter<'result'>
  readonly retagDuration: Histogram<'action'>
  readonly eventToTag: Histogram
  readonly registryResponses: Counter<'registry' | 'code'>
  readonly notifications: Counter<'result'>
  readonly eventToNotification: Histogram
}

/** A registry of our own (not prom-client's global one) so tests and several daemons in one process do not mix. */
export function createMetrics(journal: Journal, workerActive: () => number): ReleaserMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'konflux_gitops_releaser_' })
  const registers = [registry]
  new Gauge({
    name: 'konflux_gitops_releaser_queue_depth',
    help: 'Retags waiting in the journal (pending), including those being attempted.',
    registers,
    async collect() {
      if (journal.isOpen) this.set(await journal.pendingCount())
    },
  })
  // Read from the journal at scrape time, so /metrics agrees with it across restarts and replicas (the counters
  // below count this process's events only).
  new Gauge({
    name: 'konflux_gitops_releaser_journal_releases',
    help: 'Releases (accepted Snapshots) in the journal by state: pending, released, failed.',
    labelNames: ['state'],
    registers,
    async collect() {
      if (!journal.isOpen) return
      const { events } = await journal.counts()
      for (const [state, n] of Object.entries(events)) this.set({ state }, n)
    },
  })
  new Gauge({
    name: 'konflux_gitops_releaser_journal_retags',
    help: 'Retags in the journal by state: pending, moved, already, superseded, failed.',
    labelNames: ['state'],
    registers,
    async collect() {
      if (!journal.isOpen) return
      const { retags } = await journal.counts()
      for (const [state, n] of Object.entries(retags)) this.set({ state }, n)
    },
  })
  new Gauge({
    name: 'konflux_gitops_releaser_retags_in_flight',
    help: 'Retags currently talking to a registry.',
    registers,
    collect() {
      this.set(workerActive())
    },
  })
  return {
    registry,
    webhookEvents: new Counter({
      name: 'konflux_gitops_releaser_webhook_events_total',
      help: 'Webhook Snapshot events by result: accepted, duplicate, or the HTTP status of a rejection.',
      labelNames: ['result'],
      registers,
    }),
    kubernetesEvents: new Counter({
      name: 'konflux_gitops_releaser_kubernetes_events_total',
      help: 'Releasable Snapshots seen by the Kubernetes watch, by result: accepted or duplicate.',
      labelNames: ['result'],
      registers,
    }),
    retags: new Counter({
      name: 'konflux_gitops_releaser_retags_total',
      help: 'Settled retags by result: moved, already, superseded, failed, refused; and retry for each failed attempt.',
      labelNames: ['result'],
      registers,
    }),
    retagDuration: new Histogram({
      name: 'konflux_gitops_releaser_retag_duration_seconds',
      help: 'Time of one successful retag attempt against the registry.',
      labelNames: ['action'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventToTag: new Histogram({
      name: 'konflux_gitops_releaser_event_to_tag_seconds',
      help: 'From the webhook accepting a Snapshot to its tag pointing at the digest.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    registryResponses: new Counter({
      name: 'konflux_gitops_releaser_registry_responses_total',
      help: 'Registry HTTP responses by registry host and status code (or "error" for a failed connection).',
      labelNames: ['registry', 'code'],
      registers,
    }),
    notifications: new Counter({
      name: 'konflux_gitops_releaser_notifications_total',
      help: "Updater notifications by result: notify's answer (dispatched, ticked, no-dashboard, …), retry, failed.",
      labelNames: ['result'],
      registers,
    }),
    eventToNotification: new Histogram({
      name: 'konflux_gitops_releaser_event_to_notification_seconds',
      help: "From the webhook accepting a Snapshot to its GitOps repository's updater being told.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
  }
}
