import { resolve } from 'node:path'
import { driftOf, memoTagResolver, pinStoreFor, type ReadText, type TagResolver } from '../pins/index.js'
import { loadRepoSpec, repoReader } from '../repo/index.js'
import { namespaceOf, type RepoSpec } from '../spec/index.js'

export type { TagResolver }

export type PinState = 'pinned' | 'unpinned' | 'missing'

export interface RegistryView {
  /** The digest the tag points at in the registry now, or null when the lookup failed. */
  readonly digest: string | null
  /** True when the tag points elsewhere than the pinned digest: the updater will propose this digest next. */
  readonly moved: boolean
  readonly error: string | null
}

export interface ComponentStatus {
  readonly component: string
  readonly repository: string
  readonly state: PinState
  readonly tag: string | null
  readonly digest: string | null
  readonly file: string | null
  /** Only with a registry check. */
  readonly registry: RegistryView | null
}

export interface EnvironmentStatus {
  readonly name: string
  readonly namespace: string
  readonly frozen: { by: string; at: string; reason: string | null } | null
  readonly components: readonly ComponentStatus[]
}

export interface StatusReport {
  readonly app: string
  readonly tag: string
  readonly checkedRegistry: boolean
  readonly environments: readonly EnvironmentStatus[]
  /** Pins whose tag has moved since (registry check only). */
  readonly moved: number
  /** Lookups that failed (registry check only). */
  readonly errors: number
}

/** Pure-ish core: pins through the seam, registry answers through the pins' drift function (one lookup per repository:tag). */
export async function statusOf(spec: RepoSpec, readText: ReadText, resolveTag?: TagResolver): Promise<StatusReport> {
  const store = pinStoreFor(spec)
  // One resolver for every environment, so a repository:tag is asked once however many environments pin it.
  const resolver = resolveTag ? memoTagResolver(resolveTag) : undefined
  const environments = await Promise.all(
    spec.environments.map(async (env): Promise<EnvironmentStatus> => {
      const read = store.read(spec, env.name, readText)
      const pins = spec.components.map((component) => ({
        component,
        pin: read.find((p) => p.component === component.name),
      }))
      const present = pins.flatMap(({ pin }) => (pin ? [pin] : []))
      const drifts = resolver ? await driftOf(present, resolver, { defaultTag: spec.tag }) : []
      const components = pins.map(({ component, pin }): ComponentStatus => {
        const state: PinState = !pin ? 'missing' : pin.digest ? 'pinned' : 'unpinned'
        const drift = pin ? drifts.find((d) => d.pin === pin) : undefined
        return {
          component: component.name,
          repository: component.image,
          state,
          tag: pin?.tag ?? null,
          digest: pin?.digest ?? null,
          file: pin?.file ?? null,
          // An unpinned entry follows the tag already; "moved" means a pin the updater will move.
          registry: drift ? { digest: drift.current, moved: drift.drifted, error: drift.error } : null,
        }
      })
      return {
        name: env.name,
        namespace: namespaceOf(spec, env),
        frozen: env.frozen ? { by: env.frozen.by, at: env.frozen.at, reason: env.frozen.reason ?? null } : null,
        components,
      }
    }),
  )
  const all = environments.flatMap((env) => env.components)
  return {
    app: spec.app,
    tag: spec.tag,
    checkedRegistry: resolveTag !== undefined,
    environments,
    moved: all.filter((c) => c.registry?.moved).length,
    errors: all.filter((c) => c.registry?.error).length,
  }
}

export interface StatusOptions {
  readonly dir: string
  readonly againstRegistry?: boolean
}

export async function repoStatus(options: StatusOptions): Promise<StatusReport> {
  const dir = resolve(options.dir)
  const spec = await loadRepoSpec(dir)
  if (!options.againstRegistry) return statusOf(spec, repoReader(dir))
  const { createRegistryClient } = await import('../registry/index.js')
  const client = createRegistryClient()
  try {
    return await statusOf(spec, repoReader(dir), async (repository, tag) => {
      const { digest } = await client.resolveDigest(`${repository}:${tag}`)
      return digest
    })
  } finally {
    await client.close()
  }
}

/** The table users read: one row per environment and component. */
export function formatStatusTable(report: StatusReport): string {
  const short = (digest: string | null) => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-')
  const header = ['ENVIRONMENT', 'COMPONENT', 'TAG', 'DIGEST', ...(report.checkedRegistry ? ['REGISTRY'] : [])]
  const rows: string[][] = []
  for (const env of report.environments) {
    for (const c of env.components) {
      const pinned = c.state === 'missing' ? '(missing)' : c.state === 'unpinned' ? '(unpinned)' : short(c.digest)
      const row = [env.frozen ? `${env.name} (frozen)` : env.name, c.component, c.tag ?? '-', pinned]
      if (report.checkedRegistry) {
        const r = c.registry
        row.push(
          !r
            ? '-'
            : r.error
              ? `error: ${r.error}`
              : r.moved
                ? `moved -> ${short(r.digest)}`
                : c.state === 'unpinned'
                  ? `tag at ${short(r.digest)}`
                  : 'current',
        )
      }
      rows.push(row)
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const frozen = report.environments
    .filter((env) => env.frozen)
    .map(
      (env) =>
        `${env.name} is frozen by ${env.frozen!.by} since ${env.frozen!.at}${env.frozen!.reason ? `: ${env.frozen!.reason}` : ''}`,
    )
  return [line(header), ...rows.map(line), ...(frozen.length ? ['', ...frozen] : [])].join('\n')
}
