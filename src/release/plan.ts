/**
 * Snapshot + mapping → the retags to do. Pure: no registry, no clock (the release time is an input), so every rule
 * here is unit-tested.
 */
import { UsageError } from '../cli/errors.js'
import { type ImageRef, parseImageRef } from '../image-ref/index.js'
import type { Snapshot, SnapshotComponent } from '../snapshot/index.js'
import type { Mapping } from './mapping.js'
import { renderTag, TAG_PATTERN, TemplateError, usesImageConfig, usesTagList } from './templates.js'

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
  /** `--tag` values: replace the mapping's `defaults.tags` (componentTags and a component's own tags still add). */
  tags?: string[] | undefined
  releaseTime: Date
  /** Digests for components whose image is not pinned (resolved by the caller, only under --force). */
  digests?: Readonly<Record<string, string>>
  /**
   * Build date, labels and version of each image, for `{{ timestamp }}`, `{{ labels.NAME }}` and `{{ oci_version }}`:
   * keyed by the component's containerImage (or its name when the Snapshot has one version of it).
   */
  imageFacts?: Readonly<Record<string, ImageFacts>>
  /** Tags already in each target repository (`registry/path`), for `{{ incrementer }}`. */
  existingTags?: Readonly<Record<string, readonly string[]>>
}

export interface ImageFacts {
  /** As the image records it: label build-date, else label org.opencontainers.image.created, else config created. */
  buildDate: string | undefined
  labels: Readonly<Record<string, string>>
  /** `org.opencontainers.image.version` (label; a Helm chart's manifest annotation). */
  ociVersion?: string | undefined
}

interface TargetTemplates {
  repository: ImageRef
  templates: string[]
}

interface ComponentTargets {
  component: SnapshotComponent
  targets: TargetTemplates[]
  timestampFormat: string
}

/** jq's `unique`: sorted by code point, duplicates dropped. Konflux expands the templates in this order. */
function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
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

function resolveTargets(input: Omit<PlanInput, 'imageFacts' | 'existingTags'>): {
  targets: ComponentTargets[]
  skipped: SkippedComponent[]
} {
  const { snapshot, mapping } = input
  const cliTags = input.tags && input.tags.length > 0 ? input.tags : undefined
  const skipped: SkippedComponent[] = []
  const targets: ComponentTargets[] = []
  for (const component of snapshot.components) {
    const sourceRepo: ImageRef = { registry: component.image.registry, path: component.image.path }
    if (!mapping?.components) {
      // This tool's own mode: no mapping, or one without a components list (the releaser's config with only
      // defaults): the --tag values, else defaults.tags, else "released", in the image's own repository.
      // (Konflux's apply-mapping releases nothing for a mapping without components.)
      targets.push({
        component,
        targets: [
          { repository: sourceRepo, templates: [...new Set(cliTags ?? mapping?.defaultTags ?? [DEFAULT_TAG])] },
        ],
        timestampFormat: mapping?.timestampFormat ?? DEFAULT_TIMESTAMP_FORMAT,
      })
      continue
    }
    const index = (mapping.components ?? []).findIndex((m) => m.name === component.name)
    const entry = mapping.components?.[index]
    if (!entry) {
      skipped.push({ component: component.name, reason: `not in the mapping (${mapping.source})` })
      continue
    }
    const where = `${mapping.source}: components[${index}] (${entry.name})`
    if (!entry.targets) {
      throw new UsageError(`${where}: names neither repository nor repositories`, {
        code: 'invalid-mapping',
        hint: "Konflux's push-snapshot has nowhere to push it either: add repository: <registry>/<path>.",
      })
    }
    // Konflux: defaults.tags + componentTags for every repository, plus that repository's own tags
    // (`repository` takes the entry's `tags`; a `repositories` entry only its own).
    const base = [...(cliTags ?? mapping.defaultTags ?? []), ...(entry.componentTags ?? [])]
    targets.push({
      component,
      timestampFormat: entry.timestampFormat ?? mapping.timestampFormat ?? DEFAULT_TIMESTAMP_FORMAT,
      targets: entry.targets.map((t, i) => {
        const at = `${where}${entry.listed ? `.repositories[${i}]` : ''}`
        // No tags anywhere: Konflux's push-snapshot refuses the component; this tool's documented default applies
        // instead (the tag "released", as without a mapping), so a tag-less ReleasePlan still releases somewhere.
        const merged = uniqueSorted([...base, ...(t.tags ?? [])])
        const templates = merged.length > 0 ? merged : [DEFAULT_TAG]
        return { repository: parseRepository(t.repository, at), templates }
      }),
    })
  }
  return { targets, skipped }
}

const repoKey = (ref: RepositoryLocation) => `${ref.registry}/${ref.path}`

/** Components whose tags use `{{ timestamp }}`, `{{ labels.X }}` or `{{ oci_version }}`: read their image. */
export function componentsNeedingImageConfig(input: Omit<PlanInput, 'imageFacts' | 'existingTags'>): string[] {
  return [
    ...new Set(
      resolveTargets(input)
        .targets.filter((c) => c.targets.some((t) => t.templates.some(usesImageConfig)))
        .map((c) => c.component.name),
    ),
  ]
}

/** Snapshot components (by containerImage) whose image facts the plan needs. */
export function imagesNeedingConfig(input: Omit<PlanInput, 'imageFacts' | 'existingTags'>): SnapshotComponent[] {
  return resolveTargets(input)
    .targets.filter((c) => c.targets.some((t) => t.templates.some(usesImageConfig)))
    .map((c) => c.component)
}

/** Target repositories (`registry/path`) whose tag list `{{ incrementer }}` needs. */
export function repositoriesNeedingTagList(
  input: Omit<PlanInput, 'imageFacts' | 'existingTags'>,
): RepositoryLocation[] {
  const found = new Map<string, RepositoryLocation>()
  for (const c of resolveTargets(input).targets) {
    if (!c.targets.some((t) => t.templates.some(usesTagList))) continue
    // {{ component-incrementer }} looks at every repository of the component.
    for (const t of c.targets)
      found.set(repoKey(t.repository), { registry: t.repository.registry, path: t.repository.path })
  }
  return [...found.values()]
}

function factsOf(input: PlanInput, component: SnapshotComponent): ImageFacts | undefined {
  return input.imageFacts?.[component.containerImage] ?? input.imageFacts?.[component.name]
}

export function planRelease(input: PlanInput): ReleasePlan {
  const { snapshot, mapping } = input
  const { targets, skipped } = resolveTargets(input)
  const retags: PlannedRetag[] = []
  const claimed = new Map<string, string>()
  for (const entry of targets) {
    const { component } = entry
    const digest = component.image.digest ?? input.digests?.[component.name]
    if (!digest) {
      throw new UsageError(`component ${component.name}: ${component.containerImage} has no digest`, {
        code: 'not-pinned',
      })
    }
    const facts = factsOf(input, component)
    const componentExistingTags = entry.targets.flatMap((t) => input.existingTags?.[repoKey(t.repository)] ?? [])
    for (const target of entry.targets) {
      const seen = new Set<string>()
      for (const template of target.templates) {
        let tag: string
        try {
          tag = renderTag(template, {
            gitSha: component.gitRevision,
            digest,
            buildDate: facts?.buildDate,
            labels: facts?.labels,
            ociVersion: facts?.ociVersion,
            releaseTime: input.releaseTime,
            timestampFormat: entry.timestampFormat,
            existingTags: input.existingTags?.[repoKey(target.repository)],
            componentExistingTags: input.existingTags ? componentExistingTags : undefined,
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
        const key = `${repoKey(target.repository)}:${tag}`
        const owner = claimed.get(key)
        const me = `${component.name} (${component.containerImage})`
        if (owner !== undefined && owner !== me) {
          throw new UsageError(`${key} would get two images: ${owner} and ${me}`, {
            code: 'tag-conflict',
            hint: 'Give each version of the component its own tags, e.g. "{{ labels.version }}" or "{{ git_short_sha }}".',
          })
        }
        claimed.set(key, me)
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
