/**
 * `konflux-gitops release`: a tested Snapshot's digests get their release tags. Gate → mapping → plan → execute.
 */
import { UserError } from '../cli/errors.js'
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js'
import { parseSnapshot, releaseGate, type Snapshot } from '../snapshot/index.js'
import type { GateOptions } from '../verify/index.js'
import { executeRetags, type RetagOutcome, type RetagStatus } from './engine.js'
import { readPlanFacts } from './facts.js'
import { parseMapping } from './mapping.js'
import { checkTagFlags, planRelease, type SkippedComponent } from './plan.js'

export interface ReleaseInput {
  snapshotText: string
  /** File name (or "stdin") for messages. */
  snapshotSource: string
  mappingText?: string | undefined
  mappingSource?: string | undefined
  tags?: string[] | undefined
  dryRun?: boolean
  force?: boolean
  concurrency?: number | undefined
  followArtifacts?: boolean
  quayToken?: string | undefined
  quayRegistries?: string[] | undefined
  /** Release time for `{{ release_timestamp }}` (default now). */
  now?: Date
  registry?: RegistryClientOptions
  /** Public key files (PEM): a component whose digest none of them signed is refused, nothing moves for it. */
  verifyKeys?: readonly string[] | undefined
  /** Move tags even to older (or unorderable) builds than they point at now. */
  allowOlder?: boolean
  /** With verifyKeys: also require a provenance attestation meeting this policy. */
  verifyAttestation?: GateOptions['attestation']
}

export interface ReleaseDeps {
  /** A client to reuse (its connections and tokens); otherwise one is made from `input.registry` and closed. */
  client?: RegistryClient
  onOutcome?: (outcome: RetagOutcome) => void
  onWarning?: (message: string) => void
}

export interface ReleaseResultItem {
  component: string
  /** `registry/path@digest` */
  source: string
  /** `registry/path:tag` */
  target: string
  tag: string
  digest: string
  status: RetagStatus
  mediaType: string | null
  previousDigest: string | null
  followed: string[]
  warnings: string[]
  error: { code: string; message: string; hint: string | null } | null
}

export interface ReleaseReport {
  snapshot: string
  application: string
  dryRun: boolean
  /** Gate reasons overridden with --force (empty when the Snapshot passed the gate). */
  forced: string[]
  summary: { moved: number; unchanged: number; wouldMove: number; failed: number; refused: number; skipped: number }
  results: ReleaseResultItem[]
  skipped: SkippedComponent[]
}

function toItem(outcome: RetagOutcome): ReleaseResultItem {
  const { retag } = outcome
  return {
    component: retag.component,
    source: `${retag.source.registry}/${retag.source.path}@${retag.source.digest}`,
    target: `${retag.target.registry}/${retag.target.path}:${retag.tag}`,
    tag: retag.tag,
    digest: retag.source.digest,
    status: outcome.status,
    mediaType: outcome.mediaType ?? null,
    previousDigest: outcome.previousDigest ?? null,
    followed: outcome.followed,
    warnings: outcome.warnings,
    error: outcome.error
      ? { code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint ?? null }
      : null,
  }
}

function gate(snapshot: Snapshot, force: boolean, source: string): string[] {
  const result = releaseGate(snapshot)
  if (result.releasable) return []
  if (force) return [...result.reasons]
  throw new UserError(`${source}: Snapshot ${snapshot.name} is not releasable:\n  - ${result.reasons.join('\n  - ')}`, {
    code: 'not-releasable',
    hint: 'Release only Snapshots whose integration tests passed on a push build; --force overrides this check.',
  })
}

export async function releaseSnapshot(input: ReleaseInput, deps: ReleaseDeps = {}): Promise<ReleaseReport> {
  checkTagFlags(input.tags ?? [])
  const snapshot = parseSnapshot(input.snapshotText, input.snapshotSource)
  const forced = gate(snapshot, input.force ?? false, input.snapshotSource)
  const mapping =
    input.mappingText === undefined ? undefined : parseMapping(input.mappingText, input.mappingSource ?? 'mapping')
  const now = input.now ?? new Date()
  // Keys are read before the registry is touched: a bad key file is a usage error, not a failed release.
  const verify = input.verifyKeys?.length ? await import('../verify/index.js') : undefined
  const keys = verify ? await verify.loadVerificationKeys(input.verifyKeys ?? []) : []

  let client = deps.client
  const ownClient = !client
  if (!client) {
    client = new RegistryClient({
      // Two requests in flight per repository lane: a lane's reads (the next tag's HEAD, signature and referrer
      // lookups) overlap its write, and against a remote registry the round trip, not the registry, is the limit
      // (issue 18: 180 components x 3 tags behind +50 ms took 8 s of queueing at 16 per registry).
      concurrency: Math.max(16, 2 * (input.concurrency ?? 16)),
      ...input.registry,
      ...(deps.onWarning && !input.registry?.onWarning ? { onWarning: deps.onWarning } : {}),
    })
  }
  try {
    // Only under --force: images referenced by tag are pinned to what the tag points at now.
    const digests: Record<string, string> = {}
    for (const component of snapshot.components) {
      if (component.image.digest) continue
      digests[component.name] = (await client.resolveDigest(component.image)).digest
      deps.onWarning?.(
        `component ${component.name}: ${component.containerImage} resolved to ${digests[component.name]}`,
      )
    }
    const facts = await readPlanFacts(client, { snapshot, mapping, tags: input.tags, releaseTime: now, digests })
    const plan = planRelease({ snapshot, mapping, tags: input.tags, releaseTime: now, digests, ...facts })
    if (plan.retags.length === 0) {
      throw new UserError(`nothing to release: no component of Snapshot ${snapshot.name} is in the mapping`, {
        code: 'nothing-to-release',
        hint: `Add the components (${snapshot.components.map((c) => c.name).join(', ')}) to the mapping.`,
      })
    }
    const gate = verify?.createSignatureGate(
      client,
      keys,
      input.verifyAttestation ? { attestation: input.verifyAttestation } : {},
    )
    const revisions = new Map(snapshot.components.map((c) => [c.name, c.gitRevision]))
    const outcomes = await executeRetags(plan.retags, client, {
      ...(gate ? { verify: (retag) => gate(retag.source, { sourceRevision: revisions.get(retag.component) }) } : {}),
      dryRun: input.dryRun ?? false,
      ...(input.allowOlder ? { allowOlder: true } : {}),
      ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }),
      ...(input.followArtifacts === undefined ? {} : { followArtifacts: input.followArtifacts }),
      quay: {
        token: input.quayToken,
        ...(input.quayRegistries === undefined ? {} : { registries: input.quayRegistries }),
      },
      ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    })
    const count = (status: RetagStatus) => outcomes.filter((o) => o.status === status).length
    return {
      snapshot: snapshot.name,
      application: snapshot.application,
      dryRun: input.dryRun ?? false,
      forced,
      summary: {
        moved: count('moved'),
        unchanged: count('unchanged'),
        wouldMove: count('would-move'),
        failed: count('failed'),
        refused: count('refused'),
        skipped: plan.skipped.length,
      },
      results: outcomes.map(toItem),
      skipped: plan.skipped,
    }
  } finally {
    if (ownClient) await client.close()
  }
}
