/**
 * The one retag engine: `konflux-gitops release` and the releaser daemon both move tags through it.
 *
 * - Lanes: writes into one repository run one after another (Debian's registry corrupts data under concurrent
 *   writes to one repository); repositories run in parallel, bounded by the caller and per registry in the client.
 *   A retag the caller gave up on (timed out) keeps its lane until it really ends, so a late PUT can never land
 *   after the next write to the same repository.
 * - Quay: a moved tag's inherited expiry (`quay.expires-after`) is cleared, or warned about without a token.
 * - Errors: every retag gets an outcome; a failure carries the registry's `retryable` and `retryAfterMs`.
 */
import { buildTimeOf, type ManifestData, type RegistryClient, readImageConfig } from '../registry/client.js'
import { type CopyRead, readForCopy, writeCopy } from '../registry/copy.js'
import { handleQuayExpiry, isQuay, type QuayOptions } from '../registry/quay.js'
import type { PlannedRetag } from './plan.js'

/** `refused`: the source digest failed the verification gate (unsigned); nothing was written for it. */
export type RetagStatus = 'moved' | 'unchanged' | 'would-move' | 'failed' | 'refused'

export interface RetagError {
  code: string
  message: string
  hint: string | undefined
  /** Trying again later can succeed (a 503, a reset); false for a 401/403/404 or a refused move. */
  retryable: boolean
  /** The registry's Retry-After, when it sent one. */
  retryAfterMs: number | undefined
  /** The HTTP status of the answer that failed, when there was one. */
  status: number | undefined
}

export interface RetagOutcome {
  retag: PlannedRetag
  status: RetagStatus
  mediaType: string | undefined
  previousDigest: string | undefined
  /** Signatures, attestations and referrers copied along with a promotion. */
  followed: string[]
  warnings: string[]
  error: RetagError | undefined
}

/** Asked before a tag moves (and in a dry run): a refusal stops the retag (src/verify createSignatureGate). */
export type RetagGate = (
  retag: PlannedRetag,
) => Promise<{ code: string; message: string; hint: string | undefined } | undefined>

export interface EngineOptions {
  followArtifacts?: boolean
  quay?: QuayOptions
  verify?: RetagGate
  /**
   * Move a tag even to an image older than the one it points at now, or when the two cannot be ordered (default
   * false: the tag stays and the outcome is `refused`, naming both builds).
   */
  allowOlder?: boolean
}

export interface ExecuteOptions extends EngineOptions {
  /** Only HEAD: report what would move. */
  dryRun?: boolean
  /** Target repositories worked on at once (default 16). */
  concurrency?: number
  onOutcome?: (outcome: RetagOutcome) => void
}

function errorOf(error: unknown): RetagError {
  const e = error as { code?: unknown; message?: string; hint?: string; retryable?: unknown }
  const { retryAfterMs, status } = error as { retryAfterMs?: unknown; status?: unknown }
  return {
    code: typeof e.code === 'string' ? e.code : 'failed',
    message: e.message ?? String(error),
    hint: e.hint,
    // Not a registry answer (a bug, a dropped connection below the client): worth another try.
    retryable: typeof e.retryable === 'boolean' ? e.retryable : true,
    retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
    status: typeof status === 'number' ? status : undefined,
  }
}

function laneOf(retag: PlannedRetag): string {
  return `${retag.target.registry}/${retag.target.path}`
}

export class RetagEngine {
  private readonly lanes = new Map<string, Promise<unknown>>()
  /** Shared across retags so a digest released under several tags is read once. */
  private readonly manifestCache = new Map<string, Promise<ManifestData>>()
  /** Content and followers copied into a repository lately: the next tag of that digest there only PUTs (copy.ts). */
  private readonly copiedTo = new Map<string, number>()

  constructor(
    readonly client: RegistryClient,
    private readonly options: EngineOptions = {},
  ) {}

  private copyOptions() {
    return {
      manifestCache: this.manifestCache,
      copiedTo: this.copiedTo,
      ...(this.options.followArtifacts === undefined ? {} : { followArtifacts: this.options.followArtifacts }),
    }
  }

  /** Build time per image, read once (bounded: a long-running daemon sees many digests). */
  private readonly buildTimes = new Map<string, Promise<Date | undefined>>()

  private buildTime(repo: { registry: string; path: string }, digest: string): Promise<Date | undefined> {
    const key = `${repo.registry}/${repo.path}@${digest}`
    let found = this.buildTimes.get(key)
    if (!found) {
      found = readImageConfig(this.client, repo, digest).then(buildTimeOf)
      found.catch(() => this.buildTimes.delete(key))
      if (this.buildTimes.size >= 2048) this.buildTimes.delete(this.buildTimes.keys().next().value!)
      this.buildTimes.set(key, found)
    }
    return found
  }

  /**
   * No tag moves back: the image a tag is about to point at must not be older than the one it points at now, by
   * the build time each image records. Two builds that cannot be ordered (a build time missing) leave the tag
   * alone too; equal times are not "older". Undefined when the move may go on.
   */
  private async ordering(retag: PlannedRetag, currentDigest: string | undefined): Promise<RetagOutcome | undefined> {
    if (this.options.allowOlder || currentDigest === undefined || currentDigest === retag.source.digest) return
    const [next, now] = await Promise.all([
      this.buildTime(retag.source, retag.source.digest),
      this.buildTime(retag.target, currentDigest),
    ])
    if (next && now && next.getTime() >= now.getTime()) return undefined
    const where = `${retag.target.registry}/${retag.target.path}:${retag.tag}`
    const built = (at: Date | undefined) => (at ? `built ${at.toISOString()}` : 'no build time recorded')
    const error: RetagError =
      next && now
        ? {
            code: 'older-build',
            message: `${where} not moved back: it points at ${currentDigest} (${built(now)}), newer than ${retag.source.digest} (${built(next)})`,
            hint: 'A tag never moves to an older build; to roll back use `konflux-gitops rollback`, or release with --allow-older.',
            retryable: false,
            retryAfterMs: undefined,
            status: undefined,
          }
        : {
            code: 'unordered-builds',
            message: `${where} not moved: cannot tell whether ${retag.source.digest} (${built(next)}) is newer than ${currentDigest} (${built(now)}), which it points at now`,
            hint: 'Build times come from the label org.opencontainers.image.created or build-date, or the config created; release with --allow-older to move the tag anyway.',
            retryable: false,
            retryAfterMs: undefined,
            status: undefined,
          }
    return {
      retag,
      status: 'refused',
      mediaType: undefined,
      previousDigest: currentDigest,
      followed: [],
      warnings: [],
      error,
    }
  }

  /** The gate's refusal as an outcome, or undefined when the retag may go on (or there is no gate). */
  private async refusal(retag: PlannedRetag): Promise<RetagOutcome | undefined> {
    const refused = await this.options.verify?.(retag)
    if (!refused) return undefined
    return {
      retag,
      status: 'refused',
      mediaType: undefined,
      previousDigest: undefined,
      followed: [],
      warnings: [],
      error: { ...refused, retryable: false, retryAfterMs: undefined, status: undefined },
    }
  }

  /** Run `work` after everything queued earlier in `key`'s lane has ended (failed or not). */
  private inLane<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.lanes.get(key) ?? Promise.resolve()
    const run = previous.then(work)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.lanes.set(key, tail)
    void tail.then(() => {
      if (this.lanes.get(key) === tail) this.lanes.delete(key)
    })
    return run
  }

  /**
   * The read half of a retag, started ahead (outside the lane) while the previous write to the repository runs.
   * Only for a different tag than the write in progress: the same tag must see that write's result.
   */
  readAhead(retag: PlannedRetag, options: { knownAbsent?: boolean } = {}): Promise<CopyRead> {
    const pending = readForCopy(this.client, retag.source, retag.target, retag.tag, {
      ...this.copyOptions(),
      ...(options.knownAbsent ? { knownAbsent: true } : {}),
    })
    pending.catch(() => {}) // reported by retag() when awaited
    // The signature check reads only: start it too (the gate shares one answer per image with retag()).
    this.options.verify?.(retag).catch(() => {})
    return pending
  }

  /** Move one tag (in its repository's lane). Never throws: the outcome says what happened. */
  retag(
    retag: PlannedRetag,
    options: { dryRun?: boolean; prefetched?: Promise<CopyRead> } = {},
  ): Promise<RetagOutcome> {
    if (options.dryRun) return this.dryRun(retag)
    return this.inLane(laneOf(retag), () => this.write(retag, options.prefetched))
  }

  private async dryRun(retag: PlannedRetag): Promise<RetagOutcome> {
    const base = { retag, followed: [] as string[], warnings: [] as string[], error: undefined }
    try {
      const refused = await this.refusal(retag)
      if (refused) return refused
      const current = await this.client.headManifest(retag.target, retag.tag)
      if (current?.digest === retag.source.digest) {
        return { ...base, status: 'unchanged', mediaType: current.mediaType, previousDigest: current.digest }
      }
      const backwards = await this.ordering(retag, current?.digest)
      if (backwards) return backwards
      const source = await this.client.headManifest(retag.source, retag.source.digest)
      if (!source) {
        return {
          ...base,
          status: 'failed',
          mediaType: undefined,
          previousDigest: current?.digest,
          error: {
            code: 'registry-not-found',
            message: `${retag.source.registry}/${retag.source.path}@${retag.source.digest} not found`,
            hint: 'The Snapshot refers to an image that is not in the registry (garbage-collected?).',
            retryable: false,
            retryAfterMs: undefined,
            status: 404,
          },
        }
      }
      return { ...base, status: 'would-move', mediaType: source.mediaType, previousDigest: current?.digest }
    } catch (error) {
      return { ...base, status: 'failed', mediaType: undefined, previousDigest: undefined, error: errorOf(error) }
    }
  }

  private async write(retag: PlannedRetag, prefetched: Promise<CopyRead> | undefined): Promise<RetagOutcome> {
    const base = { retag, followed: [] as string[], warnings: [] as string[], error: undefined }
    try {
      // Reads write nothing: the read runs while the gate decides, and is dropped when the gate refuses.
      const reading = prefetched ?? readForCopy(this.client, retag.source, retag.target, retag.tag, this.copyOptions())
      reading.catch(() => {}) // reported below when awaited
      const refused = await this.refusal(retag)
      if (refused) return refused
      const read = await reading
      if (read.manifest) {
        const backwards = await this.ordering(retag, read.current?.digest)
        if (backwards) return backwards
      }
      const outcome = await writeCopy(this.client, read, this.copyOptions())
      const warnings: string[] = []
      if (outcome.status === 'moved' && isQuay(retag.target.registry, this.options.quay)) {
        try {
          const quay = await handleQuayExpiry(
            this.client,
            retag.target,
            retag.tag,
            retag.source.digest,
            this.options.quay,
          )
          if (quay.warning) warnings.push(quay.warning)
        } catch (error) {
          warnings.push((error as Error).message)
        }
      }
      return {
        ...base,
        status: outcome.status,
        mediaType: outcome.mediaType,
        previousDigest: outcome.previousDigest,
        followed: outcome.followed,
        warnings,
      }
    } catch (error) {
      return { ...base, status: 'failed', mediaType: undefined, previousDigest: undefined, error: errorOf(error) }
    }
  }
}

/** How long a repository's tag list proves a tag absent (ms). */
const TAG_LIST_TRUST_MS = 500

/**
 * Skipping the tag check for tags a fresh tag list lacks. A moved tag costs HEAD tag, GET manifest, PUT: 3
 * requests where a bare copy needs 2, and on a busy registry requests are the cost (issue 18: 0.67x a raw GET+PUT
 * loop). A release that creates new tags (`sha-{{ digest_sha }}`, versions) learns after two misses that this
 * repository's tags are mostly new: one `tags/list` then proves a tag absent, and a tag that is absent has nothing
 * to compare (no tag moves back needs a current build only when there is one) and cannot be in place, so its HEAD
 * is skipped. Kept sound by: only one page (a longer list cannot prove absence), trusted 500 ms from when it was
 * asked (a tag created by someone else since is at most that stale; re-listed after), never for a tag this run
 * wrote already, never before two misses, so a no-op release or one that moves existing tags stays one HEAD per
 * tag with no list at all.
 */
class TagList {
  private misses = 0
  private usable = true
  private tags: Set<string> | undefined
  private at = 0

  constructor(
    private readonly client: RegistryClient,
    private readonly repo: { registry: string; path: string },
  ) {}

  missed(): void {
    this.misses++
  }

  /** True when a tag list asked within TAG_LIST_TRUST_MS lacks `tag` (lists once more is worth it). */
  async proves(tag: string, remaining: number): Promise<boolean> {
    if (!this.usable || this.misses < 2) return false
    if (!this.tags || Date.now() - this.at >= TAG_LIST_TRUST_MS) {
      if (remaining < 4) return false
      const asked = Date.now()
      try {
        this.tags = await this.client.tagsIfFew(this.repo)
      } catch {
        this.tags = undefined
      }
      this.at = asked
      if (!this.tags) {
        this.usable = false
        return false
      }
    }
    return !this.tags.has(tag)
  }
}

/** Run the retags; outcomes come back in the order of `retags`. */
export async function executeRetags(
  retags: readonly PlannedRetag[],
  client: RegistryClient,
  options: ExecuteOptions = {},
): Promise<RetagOutcome[]> {
  const engine = new RetagEngine(client, options)
  const groups = new Map<string, number[]>()
  retags.forEach((retag, index) => {
    const key = laneOf(retag)
    const list = groups.get(key) ?? []
    list.push(index)
    groups.set(key, list)
  })
  const outcomes: RetagOutcome[] = new Array(retags.length)
  const queue = [...groups.values()]
  const workers = Math.max(1, Math.min(options.concurrency ?? 16, queue.length))
  // A fixed pool of workers pulling whole repositories bounds the parallelism; within a repository the reads of
  // the next retag (HEAD tag, GET manifest) overlap the writes of the current one.
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        const tagList = options.dryRun ? undefined : new TagList(client, retags[group[0]!]!.target)
        const seen = new Set<string>()
        let next = options.dryRun ? undefined : engine.readAhead(retags[group[0]!]!)
        for (let k = 0; k < group.length; k++) {
          const index = group[k]!
          const current = next
          seen.add(retags[index]!.tag)
          const following = k + 1 < group.length ? retags[group[k + 1]!]! : undefined
          if (following && tagList && !seen.has(following.tag)) {
            next = engine.readAhead(following, {
              knownAbsent: await tagList.proves(following.tag, group.length - k - 1),
            })
          } else {
            next = undefined
          }
          const outcome = await engine.retag(retags[index]!, {
            ...(options.dryRun ? { dryRun: true } : {}),
            ...(current ? { prefetched: current } : {}),
          })
          if (outcome.status === 'moved' && outcome.previousDigest === undefined) tagList?.missed()
          outcomes[index] = outcome
          options.onOutcome?.(outcome)
        }
      }
    }),
  )
  return outcomes
}
