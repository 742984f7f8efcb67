import { z } from 'zod'
import { UsageError } from '../cli/errors.js'

export const DISPATCH_EVENT_TYPE = 'konflux-gitops-released'
export const NOTIFY_VIA = ['dispatch', 'dashboard'] as const
export type NotifyVia = (typeof NOTIFY_VIA)[number]

/** A tag that moved in a release: the only thing worth a notification. */
export interface MovedImage {
  /** `registry/path`, e.g. quay.io/acme/shop/api */
  repository: string
  tag: string
  digest: string
  /** The Snapshot whose release moved it. */
  snapshot: string
  component?: string | undefined
}

/** A GitOps repository to tell, and which images it tracks (repository prefixes; none = every image). */
export interface NotifyTarget {
  /** `OWNER/REPO` on GitHub. */
  repository: string
  images?: readonly string[] | undefined
  via?: NotifyVia | undefined
  /** Dependabot repositories cannot be told (no API starts a run): they get a warning instead. */
  updater?: 'renovate' | 'dependabot' | undefined
}

/** One notification to send: a repository, a Snapshot, the images of it that moved and that it tracks. */
export interface PlannedNotification {
  repository: string
  owner: string
  name: string
  via: NotifyVia
  updater: 'renovate' | 'dependabot'
  snapshot: string
  images: MovedImage[]
}

const OWNER_REPO = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/

/** `github:OWNER/REPO` (the flag's form; `OWNER/REPO` is accepted too) → target. */
export function parseNotifyTarget(value: string, flag = '--notify'): NotifyTarget {
  const repository = value.startsWith('github:') ? value.slice('github:'.length) : value
  if (!OWNER_REPO.test(repository) || repository.endsWith('.git')) {
    throw new UsageError(`${flag} ${value}: expected github:OWNER/REPO`, {
      hint: 'Name the GitOps repository on GitHub, e.g. --notify github:acme/shop-gitops (repeatable).',
    })
  }
  return { repository }
}

function tracks(target: NotifyTarget, image: MovedImage): boolean {
  if (!target.images || target.images.length === 0) return true
  return target.images.some((prefix) => {
    const clean = prefix.replace(/\/+$/, '')
    return image.repository === clean || image.repository.startsWith(`${clean}/`)
  })
}

/**
 * Pure: one notification per repository per Snapshot, however many of its images moved (coalesced), and none for
 * a repository none of whose images moved. Targets naming the same repository are merged.
 */
export function planNotifications(
  moved: readonly MovedImage[],
  targets: readonly NotifyTarget[],
  defaultVia: NotifyVia = 'dashboard',
): PlannedNotification[] {
  const plans = new Map<string, PlannedNotification>()
  for (const target of targets) {
    const [owner = '', name = ''] = target.repository.split('/')
    for (const image of moved) {
      if (!tracks(target, image)) continue
      const key = `${target.repository.toLowerCase()}\n${image.snapshot}`
      let plan = plans.get(key)
      if (!plan) {
        plan = {
          repository: target.repository,
          owner,
          name,
          via: target.via ?? defaultVia,
          updater: target.updater ?? 'renovate',
          snapshot: image.snapshot,
          images: [],
        }
        plans.set(key, plan)
      }
      const seen = plan.images.some(
        (i) => i.repository === image.repository && i.tag === image.tag && i.digest === image.digest,
      )
      if (!seen) plan.images.push(image)
    }
  }
  return [...plans.values()]
}

/** The `client_payload` of the repository_dispatch event. */
export function dispatchPayload(plan: PlannedNotification): Record<string, unknown> {
  return {
    snapshot: plan.snapshot,
    images: plan.images.map((i) => ({
      repository: i.repository,
      tag: i.tag,
      digest: i.digest,
      ...(i.component ? { component: i.component } : {}),
    })),
  }
}

/** The hosted Renovate app's "run again" checkbox on the Dependency Dashboard. */
export const MANUAL_JOB_UNCHECKED = /- \[ \] <!-- manual job -->/
export const MANUAL_JOB_CHECKED = /- \[x\] <!-- manual job -->/i

/** The dashboard body with the manual-job box ticked, or a reason it cannot be. Pure. */
export function tickManualJob(
  body: string,
): { body: string; status: 'ticked' } | { status: 'already-ticked' } | { status: 'no-checkbox' } {
  if (MANUAL_JOB_UNCHECKED.test(body))
    return { body: body.replace(MANUAL_JOB_UNCHECKED, '- [x] <!-- manual job -->'), status: 'ticked' }
  if (MANUAL_JOB_CHECKED.test(body)) return { status: 'already-ticked' }
  return { status: 'no-checkbox' }
}

const notifyEntry = z.strictObject({
  repository: z
    .string()
    .regex(OWNER_REPO, 'must be github:OWNER/REPO or OWNER/REPO')
    .or(z.string().startsWith('github:')),
  images: z.array(z.string().min(1)).optional(),
  via: z.enum(NOTIFY_VIA).optional(),
  updater: z.enum(['renovate', 'dependabot']).optional(),
})

/**
 * The releaser config's `notify:` list, `[{repository, images: [prefix…], via}]`, checked; errors name the source
 * and the entry.
 */
export function parseNotifyConfig(value: unknown, source: string): NotifyTarget[] {
  const parsed = z.array(notifyEntry).safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UsageError(`${source}: notify.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, {
      hint: 'notify is a list of {repository: github:OWNER/REPO, images: [quay.io/acme/…], via: dashboard|dispatch}.',
    })
  }
  return parsed.data.map((entry, index) => ({
    ...entry,
    repository: parseNotifyTarget(entry.repository, `${source}: notify.${index}.repository`).repository,
  }))
}
