import type { ComponentPin } from './types.js'

/** The digest `repository:tag` points at now; throws when the registry cannot tell. */
export type TagResolver = (repository: string, tag: string) => Promise<string>

/** One pin compared with what its tag points at now. */
export interface PinDrift<P extends ComponentPin = ComponentPin> {
  readonly pin: P
  /** `repository:tag` that was looked up. */
  readonly reference: string
  /** What the tag points at now; null when the lookup failed. */
  readonly current: string | null
  readonly error: string | null
  /** The pin holds a digest and the tag points elsewhere now: the updater will propose `current` next. */
  readonly drifted: boolean
}

/** A resolver that asks once per `repository:tag`, however many pins (and callers) ask. */
export function memoTagResolver(resolve: TagResolver): TagResolver {
  const lookups = new Map<string, Promise<string>>()
  return (repository, tag) => {
    const key = `${repository}:${tag}`
    let pending = lookups.get(key)
    if (!pending) {
      pending = resolve(repository, tag)
      // Callers await it; a rejection nobody awaits yet must not crash the process.
      pending.catch(() => {})
      lookups.set(key, pending)
    }
    return pending
  }
}

/**
 * The one drift function (validate --against-registry, doctor, status): each pin's `repository:tag` (a pin without
 * a tag follows `defaultTag`) asked of the registry once, and compared with the pinned digest.
 */
export async function driftOf<P extends ComponentPin>(
  pins: readonly P[],
  resolve: TagResolver,
  options: { defaultTag?: string } = {},
): Promise<PinDrift<P>[]> {
  const lookup = memoTagResolver(resolve)
  return Promise.all(
    pins.flatMap((pin) => {
      const tag = pin.tag ?? options.defaultTag
      if (tag === undefined) return []
      const reference = `${pin.repository}:${tag}`
      return [
        lookup(pin.repository, tag).then(
          (current): PinDrift<P> => ({
            pin,
            reference,
            current,
            error: null,
            drifted: pin.digest !== undefined && current !== pin.digest,
          }),
          (error: unknown): PinDrift<P> => ({
            pin,
            reference,
            current: null,
            error: (error as Error)?.message ?? String(error),
            drifted: false,
          }),
        ),
      ]
    }),
  )
}
