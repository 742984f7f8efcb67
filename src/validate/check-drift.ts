import { isSha256Digest } from '../image-ref/index.js'
import { driftOf, pinStoreFor } from '../pins/index.js'
import { readEnvironmentPins, updaterName } from './check-pins.js'
import type { CheckContext } from './context.js'

/** Asks a registry which digest `repository:tag` points to now. */
export type DigestResolver = (reference: string) => Promise<string>

/**
 * For each environment's `tag@digest` pin (read through the pin seam, on every shape), is the digest still what
 * the tag points to? One registry request per repository:tag; the comparison is the pins module's drift function.
 */
export async function checkDrift(ctx: CheckContext, resolve: DigestResolver): Promise<void> {
  if (!ctx.enabled('image-drift') && !ctx.enabled('registry-lookup-failed')) return
  const spec = ctx.spec
  if (!spec) return
  let store: ReturnType<typeof pinStoreFor>
  try {
    store = pinStoreFor(spec)
  } catch {
    return
  }
  const pins = readEnvironmentPins(ctx, spec, store)
    .flatMap((env) => env.pins)
    .filter((pin) => pin.tag !== undefined && pin.digest !== undefined && isSha256Digest(pin.digest))
  const drifts = await driftOf(pins, (repository, tag) => resolve(`${repository}:${tag}`))
  const reportedFailures = new Set<string>()
  const updater = updaterName(spec)
  for (const drift of drifts) {
    const { pin } = drift
    const position = { line: pin.line, column: pin.column }
    if (drift.error !== null) {
      if (reportedFailures.has(drift.reference)) continue
      reportedFailures.add(drift.reference)
      ctx.report('registry-lookup-failed', pin.file, position, `cannot resolve ${drift.reference}: ${drift.error}`)
    } else if (drift.drifted) {
      ctx.report(
        'image-drift',
        pin.file,
        position,
        `${drift.reference} now points to ${drift.current}; this file pins ${pin.digest}`,
        `Merge the pending ${updater} pull request, or pin the digest the registry now reports for the tag.`,
      )
    }
  }
}
