import { readFile, writeFile } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { UsageError, UserError } from '../src/cli/errors.js'
import { githubAppOption, githubNotifyFlags, notifyFlags } from '../src/cli/flags.js'
import type { NotifyOutcome, NotifyVia } from '../src/notify/index.js'
import type { ReleaseReport, RetagOutcome } from '../src/release/index.js'

async function readInput(path: string, flag: string): Promise<{ text: string; source: string }> {
  if (path === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' }
  }
  try {
    return { text: await readFile(path, 'utf8'), source: path }
  } catch (error) {
    throw new UsageError(
      `${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    )
  }
}

/** The whole release within `seconds`, else a clear failure (moves are atomic tag PUTs: a re-run finishes). */
async function withTimeout<T>(work: Promise<T>, seconds: number | undefined, done: () => number): Promise<T> {
  if (seconds === undefined) return work
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UserError(`release did not finish within --timeout ${seconds}s (${done()} tags done)`, {
            code: 'timeout',
            hint: 'Tags already moved stay moved; run the same release again to finish (a registry may be stalled: --request-timeout).',
          }),
        ),
      seconds * 1000,
    )
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}

const SYMBOL: Record<RetagOutcome['status'], string> = {
  moved: 'moved        ',
  unchanged: 'already there',
  'would-move': 'would move   ',
  failed: 'FAILED       ',
  refused: 'REFUSED      ',
}

export default class Release extends BaseCommand {
  static override summary = "Point release tags at a tested Snapshot's image digests"
  static override description =
    `Reads a Konflux Snapshot and, for each component, points the release tags (default: released) at the
component's digest: GET the exact manifest bytes, verify their sha256, PUT them under the tag. Multi-arch indexes
are retagged whole. A tag already at the digest costs one HEAD, so running the same release again only finishes
what failed. With --mapping, components go to other repositories (blobs mounted, children before the index,
cosign .sig/.att/.sbom tags and OCI referrers copied along) with tags as Konflux's apply-mapping expands them:
defaults.tags + the component's componentTags + its own tags (a repositories[] entry: its own tags instead),
with {{ git_sha }}, {{ git_short_sha }}, {{ digest_sha }}, {{ timestamp }} (label build-date, else
org.opencontainers.image.created, else the config's created; no zone means UTC), {{ release_timestamp }},
{{ oci_version }}, {{ incrementer }} (next number after the target's tags), {{ component-incrementer }} and
{{ labels.NAME }}; timestamps in GNU date format (%F, %s, ...; the component's timestampFormat, else the
defaults'), always UTC. The gate is integration-service's: tests passed (or the legacy condition), not Invalid,
a push build (not a pull request, merge queue or group Snapshot), auto-release label not false, and the build's
SHOULD_RELEASE not false. --result-file writes a compact summary for a Tekton result.

With --verify-key FILE (repeatable, for key rotation) every component's digest must carry a cosign signature by
one of the keys (the sha256-<hex>.sig tag or an OCI referrer; for an index, the index digest); a component that is
not signed is REFUSED: none of its tags move, the others are released, and the exit code is 1.
--verify-builder-id and --verify-source-revision also require a signed SLSA provenance attestation from that builder
or listing the Snapshot's git revision. Keyless signatures (Fulcio certificates, Rekor) are not verified.

A tag never moves back: when it points at an image built later than the Snapshot's (build time from the label
org.opencontainers.image.created or build-date, else the config's created), or the two cannot be ordered, it is
REFUSED, naming both builds, and the exit code is 1; --allow-older moves it anyway. Rolling back is
\`konflux-gitops rollback\`, not a retag.

The Snapshot must have passed its tests (AppStudioTestSucceeded True), come from a push build and pin every image
by @sha256: digest; --force overrides this.

--mapping takes the mapping object (components[{name, repository, tags}], defaults{tags}) or a whole ReleasePlan
or ReleasePlanAdmission (its spec.data.mapping). --tag replaces the mapping's default tags; a component's own tags win.

Credentials come from REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json (auths,
credHelpers, credsStore). Extra CA certificates: NODE_EXTRA_CA_CERTS.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --snapshot snapshot.yaml',
    'kubectl get snapshot shop-20261124-091500 -o yaml | <%= config.bin %> <%= command.id %> --snapshot - --tag released --tag "{{ git_short_sha }}"',
    '<%= config.bin %> <%= command.id %> --snapshot snapshot.yaml --mapping releaseplan.yaml --dry-run --json',
  ]
  static override flags = {
    snapshot: Flags.string({ description: 'Snapshot file (YAML or JSON), or - for stdin', required: true }),
    tag: Flags.string({
      description: 'tag to point at each digest (repeatable; templates allowed); default: released',
      multiple: true,
    }),
    mapping: Flags.string({ description: 'mapping file: the mapping object, a ReleasePlan or a ReleasePlanAdmission' }),
    'result-file': Flags.string({
      description:
        'also write a compact summary (counts, digests, tags; under 3.5 KB) to FILE, e.g. a Tekton result path',
    }),
    'dry-run': Flags.boolean({ description: 'only look (HEAD): report what would move' }),
    force: Flags.boolean({ description: 'release even if the Snapshot fails the gate (tests, push build, digests)' }),
    concurrency: Flags.integer({
      description: 'repositories worked on at once (twice as many requests in flight per registry)',
      default: 64,
      min: 1,
      max: 256,
    }),
    'no-follow': Flags.boolean({ description: 'do not copy signatures, attestations and referrers on promotion' }),
    'quay-token': Flags.string({
      description: 'Quay OAuth token to clear the expiry a tag inherits from quay.expires-after',
      env: 'QUAY_TOKEN',
    }),
    timeout: Flags.integer({
      description: 'give up after this many seconds overall (exit 1; tags already moved stay, a re-run finishes)',
      min: 1,
    }),
    'request-timeout': Flags.integer({
      description: 'seconds one registry request may wait for an answer before it fails (and is retried)',
      min: 1,
    }),
    'allow-older': Flags.boolean({
      description: 'move a tag even to a build older than the one it points at now (or when the two cannot be ordered)',
    }),
    'verify-key': Flags.string({
      description:
        'public key (PEM, e.g. cosign.pub or Konflux Chains) the digest must be signed by (repeatable: any of them; keyless is not supported)',
      multiple: true,
    }),
    'verify-builder-id': Flags.string({
      description:
        'with --verify-key: also require SLSA provenance signed by the key from this builder (e.g. https://tekton.dev/chains/v2)',
      dependsOn: ['verify-key'],
    }),
    'verify-source-revision': Flags.boolean({
      description: "with --verify-key: also require SLSA provenance that lists the Snapshot component's git revision",
      dependsOn: ['verify-key'],
    }),
    ...notifyFlags({
      notify:
        "after the release, tell this GitOps repo's updater that its images moved: github:OWNER/REPO (repeatable; token from GITHUB_TOKEN or GH_TOKEN)",
      notifyVia:
        "dashboard: tick the Renovate app's Dependency Dashboard run box; dispatch: repository_dispatch konflux-gitops-released",
      notifyViaOptions: ['dashboard', 'dispatch'],
    }),
    ...githubNotifyFlags('GitHub API URL for --notify, for GitHub Enterprise (https://HOST/api/v3)'),
  }

  async run(): Promise<ReleaseReport & { notifications?: NotifyOutcome[] }> {
    const { flags } = await this.parse(Release)
    if (flags.snapshot === '-' && flags.mapping === '-')
      throw new UsageError('--snapshot and --mapping cannot both be stdin')
    const snapshot = await readInput(flags.snapshot, '--snapshot')
    const mapping = flags.mapping ? await readInput(flags.mapping, '--mapping') : undefined
    const { printable } = await import('../src/registry/index.js')
    // Checked before anything moves: a bad --notify or a missing token must not surface after the retags.
    const notifier = flags.notify?.length
      ? await (await import('../src/notify/index.js')).prepareReleaseNotifier({
          targets: flags.notify,
          via: flags['notify-via'] as NotifyVia,
          apiUrl: flags['github-api-url'],
          githubApp: githubAppOption(flags),
          onWarning: (message) => process.stderr.write(`warning: ${printable(message)}\n`),
        })
      : undefined
    const { compactReport, releaseSnapshot } = await import('../src/release/index.js')
    let done = 0
    const running = releaseSnapshot(
      {
        snapshotText: snapshot.text,
        snapshotSource: snapshot.source,
        mappingText: mapping?.text,
        mappingSource: mapping?.source,
        tags: flags.tag,
        dryRun: flags['dry-run'],
        force: flags.force,
        concurrency: flags.concurrency,
        followArtifacts: !flags['no-follow'],
        quayToken: flags['quay-token'],
        verifyKeys: flags['verify-key'],
        allowOlder: flags['allow-older'],
        ...(flags['request-timeout'] ? { registry: { requestTimeoutMs: flags['request-timeout'] * 1000 } } : {}),
        ...(flags['verify-builder-id'] || flags['verify-source-revision']
          ? {
              verifyAttestation: {
                ...(flags['verify-builder-id'] ? { builderId: flags['verify-builder-id'] } : {}),
                sourceRevisionFromSnapshot: flags['verify-source-revision'],
              },
            }
          : {}),
      },
      {
        onWarning: (message) => process.stderr.write(`warning: ${printable(message)}\n`),
        onOutcome: () => {
          // Long releases show life every 50 tags; the per-tag report comes at the end on stdout.
          done++
          if (done % 50 === 0) this.progress(`${done} tags done`)
        },
      },
    )
    const report = await withTimeout(running, flags.timeout, () => done)
    if (flags['result-file']) await writeFile(flags['result-file'], JSON.stringify(compactReport(report)))
    for (const forced of report.forced)
      process.stderr.write(`warning: released with --force although ${printable(forced)}\n`)
    for (const item of report.results) {
      for (const warning of item.warnings) process.stderr.write(`warning: ${printable(warning)}\n`)
      if (item.error) {
        process.stderr.write(`error: ${printable(item.target)}: ${printable(item.error.message)}\n`)
        if (item.error.hint) process.stderr.write(`hint: ${item.error.hint}\n`)
      }
    }
    const s = report.summary
    // Names and reasons come from the Snapshot and the registry: never raw control characters on a terminal.
    this.log(
      printable(
        [
          ...report.results.map((r) => `${SYMBOL[r.status]}  ${r.target}  ${r.digest}`),
          ...report.skipped.map((k) => `skipped        ${k.component}: ${k.reason}`),
          `${report.dryRun ? 'dry run: ' : ''}${s.moved} moved, ${s.unchanged} already there, ${report.dryRun ? `${s.wouldMove} would move, ` : ''}${s.failed} failed${s.refused ? `, ${s.refused} refused` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}`,
        ].join('\n'),
        { lines: true },
      ),
    )
    if (s.failed > 0 || s.refused > 0) this.exitWith(1)
    if (!notifier) return report
    const notifications = await notifier(report)
    for (const n of notifications)
      if (n.status === 'dispatched' || n.status === 'ticked') this.log(`notified      ${n.message}`)
    if (notifications.some((n) => n.status === 'failed')) this.exitWith(1)
    return { ...report, notifications }
  }
}
