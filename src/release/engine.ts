/**
 * Executes planned retags against registries. Reusable outside the CLI (a `releaser` daemon): give it the retags,
 * a RegistryClient and callbacks. Retags into one repository run in order (Debian's registry corrupts data under
 * concurrent writes to one repository); repositories run in parallel, bounded here and per registry in the client.
 * Every retag gets an outcome; one failure never stops the others, and a re-run skips what is in place.
 */
import type { ManifestData, RegistryClient } from '../registry/client.js'
import { type CopyRead, readForCopy, writeCopy } from '../registry/copy.js'
import { handleQuayExpiry, isQuay, type QuayOptions } from '../registry/quay.js'
import type { PlannedRetag } from './plan.js'

export type RetagStatus = 'moved' | 'unchanged' | 'would-move' | 'failed'

export interface RetagOutcome {
  retag: PlannedRetag
  status: RetagStatus
  mediaType: string | undefined
  previousDigest: string | undefined
  /** Signatures, attestations and referrers copied along with a promotion. */
  followed: string[]
  warnings: string[]
  error: { code: string; message: string; hint: string | undefined } | undefined
}

export interface ExecuteOptions {
  /** Only HEAD: report what would move. */
  dryRun?: boolean
  /** Target repositories worked on at once (default 16). */
  concurrency?: number
  followArtifacts?: boolean
  quay?: QuayOptions
  onOutcome?: (outcome: RetagOutcome) => void
}

function errorOf(error: unknown): NonNullable<RetagOutcome['error']> {
  const e = error as { code?: unknown; message?: string; hint?: string }
  return {
    code: typeof e.code === 'string' ? e.code : 'failed',
    message: e.message ?? String(error),
    hint: e.hint,
  }
}

async function runOne(
  client: RegistryClient,
  retag: PlannedRetag,
  options: ExecuteOptions,
  cache: Map<string, Promise<ManifestData>>,
  prefetched: Promise<CopyRead> | undefined,
): Promise<RetagOutcome> {
  const base = { retag, followed: [] as string[], warnings: [] as string[], error: undefined }
  const copyOptions = {
    manifestCache: cache,
    ...(options.followArtifacts === undefined ? {} : { followArtifacts: options.followArtifacts }),
  }
  try {
    if (options.dryRun) {
      const current = await client.headManifest(retag.target, retag.tag)
      if (current?.digest === retag.source.digest) {
        return { ...base, status: 'unchanged', mediaType: current.mediaType, previousDigest: current.digest }
      }
      const source = await client.headManifest(retag.source, retag.source.digest)
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
          },
        }
      }
      return { ...base, status: 'would-move', mediaType: source.mediaType, previousDigest: current?.digest }
    }
    const read = await (prefetched ?? readForCopy(client, retag.source, retag.target, retag.tag, copyOptions))
    const outcome = await writeCopy(client, read, copyOptions)
    const warnings: string[] = []
    if (outcome.status === 'moved' && isQuay(retag.target.registry, options.quay)) {
      try {
        const quay = await handleQuayExpiry(client, retag.target, retag.tag, retag.source.digest, options.quay)
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

/** Run the retags; outcomes come back in the order of `retags`. */
export async function executeRetags(
  retags: readonly PlannedRetag[],
  client: RegistryClient,
  options: ExecuteOptions = {},
): Promise<RetagOutcome[]> {
  const groups = new Map<string, number[]>()
  retags.forEach((retag, index) => {
    const key = `${retag.target.registry}/${retag.target.path}`
    const list = groups.get(key) ?? []
    list.push(index)
    groups.set(key, list)
  })
  const outcomes: RetagOutcome[] = new Array(retags.length)
  const cache = new Map<string, Promise<ManifestData>>()
  const queue = [...groups.values()]
  const workers = Math.max(1, Math.min(options.concurrency ?? 16, queue.length))
  // A fixed pool of workers pulling whole repositories keeps writes to one repository sequential. Within a
  // repository the reads of the next retag (HEAD tag, GET manifest) overlap the writes of the current one.
  const read = (retag: PlannedRetag) => {
    const pending = readForCopy(client, retag.source, retag.target, retag.tag, {
      manifestCache: cache,
      ...(options.followArtifacts === undefined ? {} : { followArtifacts: options.followArtifacts }),
    })
    pending.catch(() => {}) // reported by runOne when awaited
    return pending
  }
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        let next = options.dryRun ? undefined : read(retags[group[0]!]!)
        for (let k = 0; k < group.length; k++) {
          const index = group[k]!
          const current = next
          const following = k + 1 < group.length ? retags[group[k + 1]!]! : undefined
          // The same tag again must see this write's result: no read-ahead then.
          next = !options.dryRun && following && following.tag !== retags[index]!.tag ? read(following) : undefined
          const outcome = await runOne(client, retags[index]!, options, cache, current)
          outcomes[index] = outcome
          options.onOutcome?.(outcome)
        }
      }
    }),
  )
  return outcomes
}
