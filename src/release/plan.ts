/**
 * Snapshot + mapping → the retags to do. Pure: no registry, no clock (the release time is an input), so every rule
 * here is unit-tested.
 */
import { UsageError } from '../cli/errors.js'
import { type ImageRef, parseImageRef } from '../image-ref/index.js'
import type { Snapshot } from '../snapshot/index.js'
import type { Mapping } from './mapping.js'
import { renderTag, TAG_PATTERN, TemplateError, usesImageConfig } from './templates.js'

export const DEFAULT_TAG = 'released'
const DEFAULT_TIMESTAMP_FORMAT = '%s'

export interface RepositoryLocation {
  registry: string
  path: string
}

export interface PlannedRetag {
  component: string
  source: RepositoryLocation & { digest: string }
  target: RepositoryLocation
  tag: string
}

export interface SkippedComponent {
  component: string
  reason: string
}

export interface ReleasePlan {
  snapshot: string
  application: string
  retags: PlannedRetag[]
  skipped: SkippedComponent[]
}

export interface PlanInput {
  snapshot: Snapshot
  mapping?: Mapping | undefined
  /** `--tag` values: replace the mapping's default tags (a component's own tags still win). */
  tags?: string[] | undefined
  releaseTime: Date
  /** Digests for components whose image is not pinned (resolved by the caller, only under --force). */
  digests?: Readonly<Record<string, string>>
  /** Per component: build time and labels from the image config, for `{{ timestamp }}` and `{{ labels.NAME }}`. */
  imageFacts?: Readonly<Record<string, ImageFacts>>
}

export interface ImageFacts {
  created: Date | undefined
  labels: Readonly<Record<string, string>>
}

interface ComponentTargets {
  component: string
  targets: { repository: ImageRef; templates: string[] }[]
}

function parseRepository(value: string, where: string): ImageRef {
  let ref: ImageRef
  try {
    ref = parseImageRef(value)
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`, { code: 'invalid-mapping' })
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new UsageError(`${where}: "${value}" must be a repository without tag or digest`, {
      code: 'invalid-mapping',
      hint: 'Put tags in the tags list: repository: quay.io/acme/api, tags: [released]',
    })
  }
  return ref
}

/** Checks `--tag` values up front, so a typo is a usage error before anything touches a registry. */
export function checkTagFlags(tags: readonly string[]): void {
  for (const tag of tags) {
    if (tag.includes('{{')) continue
    if (!TAG_PATTERN.test(tag) || tag.length > 128) {
      throw new UsageError(`--tag ${JSON.stringify(tag)}: a tag may contain only letters, digits, ".", "_" and "-"`, {
        hint: 'Use e.g. --tag released --tag "{{ git_short_sha }}"',
      })
    }
  }
}

function resolveTargets(input: PlanInput): { targets: ComponentTargets[]; skipped: SkippedComponent[] } {
  const { snapshot, mapping } = input
  const cliTags = input.tags && input.tags.length > 0 ? input.tags : undefined
  const defaults = cliTags ?? mapping?.defaultTags ?? [DEFAULT_TAG]
  const skipped: SkippedComponent[] = []
  const targets: ComponentTargets[] = []
  for (const component of snapshot.components) {
    const sourceRepo: ImageRef = { registry: component.image.registry, path: component.image.path }
    if (!mapping?.components) {
      targets.push({ component: component.name, targets: [{ repository: sourceRepo, templates: defaults }] })
      continue
    }
    const index = mapping.components.findIndex((m) => m.name === component.name)
    const entry = mapping.components[index]
    if (!entry) {
      skipped.push({ component: component.name, reason: `not in the mapping (${mapping.source})` })
      continue
    }
    const where = `${mapping.source}: components[${index}] (${entry.name})`
    targets.push({
      component: component.name,
      targets: (entry.targets ?? [{ repository: undefined, tags: undefined }]).map((t, i) => ({
        repository: t.repository
          ? parseRepository(
              t.repository,
              `${where}${entry.targets && entry.targets.length > 1 ? `.repositories[${i}]` : ''}`,
            )
          : sourceRepo,
        templates: t.tags ?? entry.tags ?? defaults,
      })),
    })
  }
  return { targets, skipped }
}

/** Components whose tags use `{{ timestamp }}` or `{{ labels.X }}`: the caller reads their image config. */
export function componentsNeedingImageConfig(input: Omit<PlanInput, 'imageFacts'>): string[] {
  return resolveTargets(input)
    .targets.filter((c) => c.targets.some((t) => t.templates.some(usesImageConfig)))
    .map((c) => c.component)
}

export function planRelease(input: PlanInput): ReleasePlan {
  const { snapshot, mapping } = input
  const { targets, skipped } = resolveTargets(input)
  const retags: PlannedRetag[] = []
  for (const entry of targets) {
    const component = snapshot.components.find((c) => c.name === entry.component)!
    const digest = component.image.digest ?? input.digests?.[component.name]
    if (!digest) {
      throw new UsageError(`component ${component.name}: ${component.containerImage} has no digest`, {
        code: 'not-pinned',
      })
    }
    for (const target of entry.targets) {
      const seen = new Set<string>()
      for (const template of target.templates) {
        let tag: string
        try {
          tag = renderTag(template, {
            gitSha: component.gitRevision,
            digest,
            buildTime: input.imageFacts?.[component.name]?.created,
            labels: input.imageFacts?.[component.name]?.labels,
            releaseTime: input.releaseTime,
            timestampFormat: mapping?.timestampFormat ?? DEFAULT_TIMESTAMP_FORMAT,
          })
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error
          throw new UsageError(`component ${component.name}: tag "${template}": ${error.message}`, {
            code: 'invalid-tag',
            hint: mapping ? `Fix the tags in ${mapping.source}.` : 'Fix the --tag value.',
          })
        }
        if (seen.has(tag)) continue
        seen.add(tag)
        retags.push({
          component: component.name,
          source: { registry: component.image.registry, path: component.image.path, digest },
          target: { registry: target.repository.registry, path: target.repository.path },
          tag,
        })
      }
    }
  }
  return { snapshot: snapshot.name, application: snapshot.application, retags, skipped }
}
