import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { UsageError } from '../../src/cli/errors.js'
import { githubAppOption, githubNotifyFlags, journalFlags, journalLocation, notifyFlags } from '../../src/cli/flags.js'
import { allowlistRegistries, type ReleaserSummary, startReleaser } from '../../src/releaser/index.js'
import {
  createPlanFactsReader,
  createRegistryExecutor,
  createReleaserNotify,
  loadAllowlist,
  loadMapping,
  loadNotifyTargets,
  loadPlanner,
  loadVerifyConfig,
} from '../../src/releaser/wiring.js'

export const SECRET_ENV = 'KONFLUX_GITOPS_WEBHOOK_SECRET'

function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:]*):(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (!match || port > 65535) {
    throw new UsageError(`--listen ${value}: expected HOST:PORT, e.g. 0.0.0.0:8080 or 127.0.0.1:0`)
  }
  const host = match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0'
  return { host, port }
}

async function readSecret(file: string | undefined): Promise<Buffer> {
  let secret: string | undefined
  if (file !== undefined) {
    try {
      secret = await readFile(file, 'utf8')
    } catch (error) {
      throw new UsageError(`--webhook-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, {
        hint: 'Point it at a file holding the shared webhook secret (a mounted Secret in Kubernetes).',
      })
    }
  } else secret = process.env[SECRET_ENV]
  const trimmed = secret?.replace(/\r?\n$/, '')
  if (!trimmed) {
    throw new UsageError(`no webhook secret: pass --webhook-secret-file FILE or set ${SECRET_ENV}`, {
      hint: 'Senders sign each body with HMAC-SHA256 of this secret in X-Signature-256: sha256=<hex>.',
    })
  }
  if (trimmed.length < 16) throw new UsageError('the webhook secret is shorter than 16 characters; use a random one')
  return Buffer.from(trimmed, 'utf8')
}

export default class Releaser extends BaseCommand {
  static override summary = 'Run the releaser daemon: retag every validated Snapshot posted to its webhook'
  static override description =
    `Listens for Konflux Snapshots (POST /v1/snapshots, JSON or YAML, signed with HMAC-SHA256 of the raw body
in X-Signature-256: sha256=<hex>) and points each component's release tags at the tested digest, through the same
registry engine as \`konflux-gitops release\`.

Every accepted Snapshot is written to the journal before the webhook answers 202 {id}; after a crash or restart
every accepted Snapshot still completes. The journal is a SQLite file under --state DIR (one replica), or a
PostgreSQL database (--database-url postgres://…, or KONFLUX_GITOPS_DATABASE_URL) shared by any number of
replicas: each accepts webhooks, any of them works any step, one repository is written by one replica at a time,
and the steps of a replica that dies are taken over when its claims expire. The schema is migrated at start; a
journal written by a newer releaser is refused. Per tag the newest Snapshot wins (creation time, then
name): a late or retried older Snapshot never moves a tag back. Failed retags are retried with backoff (and the
registry's Retry-After) and, after --max-attempts, kept as failed until \`konflux-gitops releaser retry\`.

Tags are planned when a Snapshot is accepted, by the planner \`konflux-gitops release\` uses (the same
templates, Konflux's apply-mapping expansion): {{ timestamp }}, {{ labels.NAME }}, {{ oci_version }} and
{{ incrementer }} read the image config and the target's tag list then, before the journal commit, so the stored
plan never changes on a retry. A registry that cannot be read for them within 15 s (or answers 5xx) gets the
webhook a 503 with Retry-After and nothing stored; the Kubernetes watch tries that Snapshot again.

With --kubernetes it also lists and watches Snapshots (appstudio.redhat.com/v1alpha1) in the cluster, resuming
from the last resourceVersion, and takes each application's mapping from --mapping or its ReleasePlan. Replicas
elect a leader with a coordination.k8s.io Lease: only the leader watches (from the resourceVersion in the journal).
With --state the leader alone retags and standbys are not ready; with --database-url every replica retags.

With --notify github:OWNER/REPO (or a notify: list beside the mapping in the --mapping file, e.g.
notify: [{repository: github:acme/shop-gitops, images: [quay.io/acme/shop/], via: dispatch}]), once a Snapshot's
retags are final the GitOps repositories tracking the tags that MOVED are told: one notification per repository
per Snapshot (a repository_dispatch konflux-gitops-released, or a tick of the Renovate app's Dependency Dashboard
run-again box). Notifications are journal steps of their own: retried with backoff, failed after
--notify-max-attempts (shown by GET /v1/releases/ID; \`releaser retry\` sends them again), never holding back a
retag. Token: GITHUB_TOKEN/GH_TOKEN, or a GitHub App (--github-app-id, --github-app-key-file); never logged.
Dependabot has no API that starts a run: a Dependabot repository is warned about, not told.

With --verify-key FILE (repeatable) or verify: {keys: [cosign.pub], builderId: ID} in the --mapping file, a
digest must carry a cosign signature by one of the keys (sha256-<hex>.sig tag or OCI referrer; an index by its index
digest) before any of its tags moves; builderId also requires signed SLSA provenance from that builder. An unsigned
digest is settled as refused in the journal, naming the missing signature; nothing moves for it, and
\`releaser retry\` checks it again. Keyless signatures (Fulcio, Rekor) are not verified.

Only allowed registries are touched: --allow-source (and --allow-target, default the --mapping targets) or
allow: {sources: [quay.io/redhat-user-workloads/acme-tenant/], targets: [quay.io/acme/]} in the --mapping file; a
Snapshot naming anything else is refused with 422 before any connection. Without an allowlist the daemon does not
start unless --allow-any-registry. /readyz checks only those registries and the journal.

The state directory must exist (--init-state creates it on a first start); one daemon per directory (a second
one is refused, naming the holder). Finished releases older than --retention-days are pruned.

Endpoints: POST /v1/snapshots, GET /v1/releases/ID, POST /v1/releases/ID/retry (signed body {"id": ID}), /healthz, /readyz,
/metrics (Prometheus). Logs are JSON lines on stderr. SIGTERM/SIGINT stop accepting, finish in-flight retags
within --shutdown-timeout and park the rest in the journal. Registry credentials come from the docker config
(DOCKER_CONFIG, REGISTRY_AUTH_FILE).

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --state ./state --webhook-secret-file ./webhook-secret',
    '<%= config.bin %> <%= command.id %> --state /var/lib/releaser --webhook-secret-file /etc/releaser/secret --listen 0.0.0.0:8080 --mapping releaseplan.yaml',
    '<%= config.bin %> <%= command.id %> --state /var/lib/releaser --webhook-secret-file /etc/releaser/secret --kubernetes --lease-namespace releaser',
    'KONFLUX_GITOPS_DATABASE_URL=postgres://releaser:…@db:5432/releaser <%= config.bin %> <%= command.id %> --webhook-secret-file /etc/releaser/secret',
    'GITHUB_TOKEN=… <%= config.bin %> <%= command.id %> --state ./state --webhook-secret-file ./webhook-secret --notify github:acme/shop-gitops --notify-via dispatch',
    `printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET"   # the hex to send as X-Signature-256: sha256=<hex>`,
  ]
  static override flags = {
    ...journalFlags(
      'directory for the SQLite journal, one replica (must exist unless --init-state; one daemon per directory)',
    ),
    'init-state': Flags.boolean({
      description:
        'create the --state directory when it is missing (first start); without it a missing one is an error',
    }),
    'retention-days': Flags.integer({
      description: 'prune finished releases older than this many days from the journal (0: keep all)',
      default: 30,
      min: 0,
    }),
    'claim-ttl': Flags.integer({
      description:
        "with --database-url: seconds a replica holds a step it claimed without renewing it; a killed replica's steps are taken over after this",
      default: 30,
      min: 1,
    }),
    'replica-id': Flags.string({
      description:
        "with --database-url: this replica's name, unique among live replicas and kept across its restarts (the pod name): a restarted replica takes back its own unfinished steps at once",
      env: 'KONFLUX_GITOPS_REPLICA_ID',
    }),
    'webhook-secret-file': Flags.file({
      description: `file holding the webhook HMAC secret (else the ${SECRET_ENV} environment variable)`,
    }),
    listen: Flags.string({ description: 'HOST:PORT for the webhook and probes', default: '0.0.0.0:8080' }),
    mapping: Flags.file({
      description: 'release mapping: the mapping object or a whole ReleasePlan (spec.data.mapping)',
      exists: true,
    }),
    tag: Flags.string({
      description:
        "tag to move (repeatable; templates like {{ git_short_sha }}); default: the mapping's tags, else released",
      multiple: true,
    }),
    concurrency: Flags.integer({ description: 'retags in flight per registry', default: 16, min: 1, max: 256 }),
    'max-attempts': Flags.integer({ description: 'attempts before a retag is marked failed', default: 6, min: 1 }),
    'shutdown-timeout': Flags.integer({
      description: 'seconds to finish in-flight retags on SIGTERM',
      default: 20,
      min: 0,
    }),
    kubernetes: Flags.boolean({
      description: 'also list+watch Snapshots in the cluster (leader election with a Lease; standby replicas wait)',
    }),
    kubeconfig: Flags.file({
      description: 'kubeconfig for --kubernetes (else KUBECONFIG, ~/.kube/config, in-cluster)',
    }),
    namespace: Flags.string({ description: 'with --kubernetes: watch this namespace only (default: all)' }),
    selector: Flags.string({ description: 'with --kubernetes: label selector for Snapshots' }),
    'lease-name': Flags.string({
      description: 'with --kubernetes: the Lease used for leader election',
      default: 'konflux-gitops-releaser',
    }),
    'lease-namespace': Flags.string({
      description: 'with --kubernetes: namespace of the Lease (default: $POD_NAMESPACE, else default)',
    }),
    'lease-duration': Flags.integer({
      description: 'with --kubernetes: Lease duration in seconds',
      default: 15,
      min: 1,
    }),
    'allow-source': Flags.string({
      description:
        'registry, registry/path/ prefix or repository Snapshot images may come from (repeatable; also allow.sources in the --mapping file)',
      multiple: true,
    }),
    'allow-target': Flags.string({
      description:
        'repository (or prefix/) tags may be written in besides the source repositories (repeatable; default: the --mapping targets)',
      multiple: true,
    }),
    'allow-any-registry': Flags.boolean({
      description: 'start without an allowlist: any registry a signed Snapshot names is used with these credentials',
    }),
    'quay-token': Flags.string({
      description: 'Quay OAuth token to clear the expiry a moved tag inherits from quay.expires-after',
      env: 'QUAY_TOKEN',
    }),
    'verify-key': Flags.string({
      description:
        'public key (PEM) every released digest must be signed by (repeatable; also verify: {keys: [...]} in the --mapping file); an unsigned one is refused',
      multiple: true,
    }),
    'body-limit': Flags.integer({ description: 'largest webhook body in bytes', default: 1024 * 1024, min: 1024 }),
    ...notifyFlags({
      notify:
        "when a Snapshot's tags moved, tell this GitOps repo's updater: github:OWNER/REPO (repeatable; token from GITHUB_TOKEN or GH_TOKEN)",
      notifyVia:
        "how to tell it: dispatch (repository_dispatch for a Renovate workflow) or dashboard (tick the Renovate app's Dependency Dashboard)",
      notifyViaOptions: ['dispatch', 'dashboard'],
    }),
    'notify-max-attempts': Flags.integer({
      description: 'attempts before a notification is marked failed',
      default: 6,
      min: 1,
    }),
    ...githubNotifyFlags('GitHub API URL for notify, for GitHub Enterprise (https://HOST/api/v3)'),
  }

  async run(): Promise<ReleaserSummary> {
    const { flags } = await this.parse(Releaser)
    const journal = journalLocation(flags)
    const listen = parseListen(flags.listen)
    const secret = await readSecret(flags['webhook-secret-file'])
    const allow = await loadAllowlist({
      mappingFile: flags.mapping,
      sources: flags['allow-source'] ?? [],
      targets: flags['allow-target'] ?? [],
    })
    // One reader for the registry facts tags need, shared by the webhook and the Kubernetes watch.
    const facts = createPlanFactsReader()
    const plan = await loadPlanner({ mappingFile: flags.mapping, tags: flags.tag ?? [], allow, facts })
    const mapping = await loadMapping(flags.mapping)
    const readinessRegistries = allow
      ? allowlistRegistries(allow)
      : [
          ...new Set(
            (mapping?.components ?? []).flatMap((c) => (c.targets ?? []).map((t) => t.repository.split('/')[0]!)),
          ),
        ]
    const verify = await loadVerifyConfig(flags['verify-key'] ?? [], flags.mapping)
    // Checked before listening: a bad target or a missing token is a usage error, not a failed notification later.
    const notify = await createReleaserNotify({
      targets: flags.notify ?? [],
      configTargets: await loadNotifyTargets(flags.mapping),
      via: flags['notify-via'] as 'dispatch' | 'dashboard',
      apiUrl: flags['github-api-url'],
      githubApp: githubAppOption(flags),
      onWarning: (message) => this.progress(`warning: ${message}`),
      drain: { maxAttempts: flags['notify-max-attempts'] },
    })
    if (!allow && !flags['allow-any-registry']) {
      throw new UsageError(
        'no registry allowlist: the releaser would use its credentials on any registry a Snapshot names',
        {
          hint: 'Pass --allow-source quay.io/redhat-user-workloads/<tenant>/ (or allow: {sources: [...]} in the --mapping file); --allow-any-registry starts without one.',
        },
      )
    }
    const handle = await startReleaser({
      journal,
      host: listen.host,
      port: listen.port,
      secret,
      bodyLimit: flags['body-limit'],
      plan,
      createExecutor: (observer) =>
        createRegistryExecutor(observer, {
          ...(flags['quay-token'] ? { quay: { token: flags['quay-token'] } } : {}),
          verify,
        }),
      worker: { perRegistryConcurrency: flags.concurrency, maxAttempts: flags['max-attempts'] },
      shutdownTimeoutMs: flags['shutdown-timeout'] * 1000,
      claimTtlMs: flags['claim-ttl'] * 1000,
      ...(flags['replica-id'] ? { replicaId: flags['replica-id'] } : {}),
      initState: flags['init-state'],
      readinessRegistries,
      retentionMs: flags['retention-days'] * 86_400_000,
      ...(notify ? { notify } : {}),
      ...(flags.kubernetes
        ? {
            kubernetes: {
              kubeconfig: flags.kubeconfig,
              namespace: flags.namespace,
              labelSelector: flags.selector,
              mapping,
              tags: flags.tag ?? [],
              allow,
              facts,
              lease: {
                name: flags['lease-name'],
                namespace: flags['lease-namespace'] ?? process.env.POD_NAMESPACE ?? 'default',
                identity: `${hostname()}-${process.pid}`,
                durationSeconds: flags['lease-duration'],
              },
            },
          }
        : {}),
    })
    this.progress(`releaser listening on ${handle.url} (journal ${handle.journal})`)
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'))
      process.once('SIGINT', () => resolve('SIGINT'))
    })
    const summary = await handle.stop(signal)
    await facts.close()
    this.log(
      `stopped (${signal}): ${summary.events.released} released, ${summary.events.pending} pending, ${summary.events.failed} failed; ${summary.parked} parked`,
    )
    return summary
  }
}
