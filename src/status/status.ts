import { resolve } from 'node:path'
import { pinStoreFor, type ReadText } from '../pins/index.js'
import { loadRepoSpec, repoReader } from '../repo/index.js'
import { namespaceOf, type RepoSpec } from '../spec/index.js'

/** The digest `repository:tag` points at now. Throws when it cannot tell. */
export type TagResolver = (repository: string, tag: string) => Promise<string>

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

/** Pure-ish core: pins through the seam, registry answers through `resolveTag` (one lookup per repository:tag). */
export async function statusOf(spec: RepoSpec, readText: ReadText, resolveTag?: TagResolver): Promise<StatusReport> {
  const store = pinStoreFor(spec)
  const lookups = new Map<string, Promise<{ digest: string | null; error: string | null }>>()
  const lookup = (repository: string, tag: string) => {
    const key = `${repository}:${tag}`
    let pending = lookups.get(key)
    if (!pending) {
      pending = resolveTag!(repository, tag).then(
        (digest) => ({ digest, error: null }),
        (error: unknown) => ({ digest: null, error: (error as Error).message ?? String(error) }),
      )
      lookups.set(key, pending)
    }
    return pending
  }
  const environments = await Promise.all(
    spec.environments.map(async (env): Promise<EnvironmentStatus> => {
      const pins = store.read(spec, env.name, readText)
      const components = await Promise.all(
        spec.components.map(async (component): Promise<ComponentStatus> => {
          const pin = pins.find((p) => p.component === component.name)
          const state: PinState = !pin ? 'missing' : pin.digest ? 'pinned' : 'unpinned'
          const tag = pin?.tag ?? null
          let registry: RegistryView | null = null
          if (resolveTag && pin) {
            const found = await lookup(component.image, tag ?? spec.tag)
            registry = {
              digest: found.digest,
              // An unpinned entry follows the tag already; "moved" means a pin the updater will move.
              moved: found.digest !== null && pin.digest !== undefined && found.digest !== pin.digest,
              error: found.error,
            }
          }
          return {
            component: component.name,
            repository: component.image,
            state,
            tag,
            digest: pin?.digest ?? null,
            file: pin?.file ?? null,
            registry,
          }
        }),
      )
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
