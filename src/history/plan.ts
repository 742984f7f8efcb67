import { type ComponentPin, formatPinnedTag } from '../pins/index.js'

/** Where a pin change came from, as far as its commit says. */
export type PinChangeSource =
  | { kind: 'promotion'; from: string }
  | { kind: 'snapshot'; name: string }
  | { kind: 'rollback'; restoredFrom: string | null }
  | { kind: 'updater'; name: string }

export interface PinChange {
  readonly env: string
  /** Component name; the image repository when no spec (then or now) names it. */
  readonly component: string
  readonly repository: string
  readonly date: string
  readonly commit: string
  /** The commit's first parent: the pins before the change are the pins there (null for a root commit). */
  readonly parent: string | null
  readonly author: { readonly name: string; readonly email: string }
  /** First line of the commit message. */
  readonly subject: string
  /** A pin entry that appeared (an environment or component added), moved, or went away. */
  readonly change: 'added' | 'changed' | 'removed'
  /** Tag after the change (or before, when the pin was removed). */
  readonly tag: string | null
  /** Digest before the change; null when unpinned or absent. */
  readonly previous: string | null
  /** Digest after the change; null when unpinned or removed. */
  readonly digest: string | null
  readonly source: PinChangeSource | null
}

export interface CommitPins {
  readonly commit: string
  readonly parent: string | null
  readonly date: string
  readonly author: { readonly name: string; readonly email: string }
  readonly message: string
  /** The environment's pins at the commit's first parent ([] for a root commit). */
  readonly before: readonly ComponentPin[]
  readonly after: readonly ComponentPin[]
}

const keyOf = (pin: ComponentPin) => pin.component ?? pin.repository
const pinnedValue = (pin: ComponentPin | undefined) =>
  pin === undefined ? undefined : formatPinnedTag(pin.tag ?? '', pin.digest)

/**
 * The pin changes one commit made to one environment: a component whose tag@digest differs from the parent's.
 * A commit that touched the file for anything else (a namespace, a comment) makes none. Pure.
 */
export function pinChangesOf(env: string, commit: CommitPins, components?: ReadonlySet<string>): PinChange[] {
  const before = new Map(commit.before.map((pin) => [keyOf(pin), pin]))
  const after = new Map(commit.after.map((pin) => [keyOf(pin), pin]))
  const keys = [...new Set([...after.keys(), ...before.keys()])]
  const subject = commit.message.split('\n')[0] ?? ''
  const source = sourceOf(commit.message, commit.author)
  const changes: PinChange[] = []
  for (const key of keys) {
    if (components && !components.has(key)) continue
    const old = before.get(key)
    const now = after.get(key)
    if (pinnedValue(old) === pinnedValue(now)) continue
    changes.push({
      env,
      component: key,
      repository: (now ?? old)!.repository,
      date: commit.date,
      commit: commit.commit,
      parent: commit.parent,
      author: commit.author,
      subject,
      change: old === undefined ? 'added' : now === undefined ? 'removed' : 'changed',
      tag: (now ?? old)!.tag ?? null,
      previous: old?.digest ?? null,
      digest: now?.digest ?? null,
      source,
    })
  }
  return changes
}

/**
 * Read from the commit message: the trailers promote and rollback write (`Promoted-From:`, `Restored-From:`), a
 * `Snapshot:` trailer for commits made from a Konflux Snapshot, else the updater bot that authored it.
 */
export function sourceOf(message: string, author: { name: string; email: string }): PinChangeSource | null {
  const trailer = (name: string) => new RegExp(`^${name}:[ \\t]*(\\S+)[ \\t]*$`, 'mi').exec(message)?.[1]
  const promoted = trailer('Promoted-From')
  if (promoted) return { kind: 'promotion', from: promoted }
  if (trailer('Rollback-Environment') !== undefined || /^Roll back /.test(message)) {
    return { kind: 'rollback', restoredFrom: trailer('Restored-From') ?? null }
  }
  const snapshot = trailer('(?:Konflux-)?Snapshot')
  if (snapshot) return { kind: 'snapshot', name: snapshot }
  const bot = /renovate|dependabot/i.exec(`${author.name} ${author.email}`)?.[0]
  if (bot) return { kind: 'updater', name: bot.toLowerCase() }
  return null
}
