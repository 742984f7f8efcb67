/**
 * The Konflux release-service-catalog mapping (ReleasePlan / ReleasePlanAdmission `spec.data.mapping`):
 * `components[{name, repository | repositories[{url, tags[]}], tags[], componentTags[], timestampFormat}]` and
 * `defaults{tags, timestampFormat}`. Unknown keys are kept out of the way, not rejected: the same mapping drives
 * Konflux's own pipelines.
 */
import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { UsageError } from '../cli/errors.js'

const tagList = z.array(z.string().min(1, 'a tag must not be empty'))

const componentSchema = z
  .object({
    name: z.string().min(1),
    repository: z.string().min(1).optional(),
    repositories: z
      .array(z.object({ url: z.string().min(1), tags: tagList.optional() }).loose())
      .min(1)
      .optional(),
    tags: tagList.optional(),
    componentTags: tagList.optional(),
    timestampFormat: z.string().optional(),
  })
  .loose()

const mappingSchema = z
  .object({
    components: z.array(componentSchema).optional(),
    defaults: z.object({ tags: tagList.optional(), timestampFormat: z.string().optional() }).loose().optional(),
  })
  .loose()

export interface MappingTarget {
  /** `registry/path` of the target repository. */
  repository: string
  tags: string[] | undefined
}

export interface MappingComponent {
  name: string
  /**
   * Where the component goes: `repositories` when given (then the component's own `tags` do not apply, as in
   * Konflux), else `repository` with the component's `tags`; undefined when the entry names neither.
   */
  targets: MappingTarget[] | undefined
  /** The targets come from a `repositories` list (its entries are named `repositories[i]` in messages). */
  listed: boolean
  /** The entry's `tags`: they apply to `repository`, never to a `repositories` list. */
  tags: string[] | undefined
  /** The entry's `componentTags`: added to the defaults for every repository of the component. */
  componentTags: string[] | undefined
  /** The entry's own `timestampFormat` (else the defaults'). */
  timestampFormat: string | undefined
}

export interface Mapping {
  source: string
  components: MappingComponent[] | undefined
  defaultTags: string[] | undefined
  timestampFormat: string | undefined
}

/** Parse a mapping file: the mapping object itself, `{mapping: …}`, or a ReleasePlan / ReleasePlanAdmission. */
export function parseMapping(text: string, source: string): Mapping {
  const docs = parseAllDocuments(text)
  const list = Array.isArray(docs) ? docs.filter((d) => d.contents !== null) : []
  if (list.length !== 1) {
    throw new UsageError(`${source}: expected one YAML or JSON document, found ${list.length}`, {
      code: 'invalid-mapping',
    })
  }
  const doc = list[0]!
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const pos = first.linePos?.[0]
    throw new UsageError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first.message.split('\n')[0]}`, {
      code: 'invalid-mapping',
    })
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>
  let mapping: unknown = value
  let prefix = ''
  if (value && typeof value === 'object' && typeof value.kind === 'string') {
    const data = (value.spec as { data?: { mapping?: unknown } } | undefined)?.data
    if (!data?.mapping) {
      throw new UsageError(`${source}: ${value.kind} has no spec.data.mapping`, {
        code: 'invalid-mapping',
        hint: 'Pass a ReleasePlan or ReleasePlanAdmission with spec.data.mapping, or the mapping object itself.',
      })
    }
    mapping = data.mapping
    prefix = 'spec.data.mapping.'
  } else if (value && typeof value === 'object' && 'mapping' in value && !('components' in value)) {
    mapping = value.mapping
    prefix = 'mapping.'
  }
  const parsed = mappingSchema.safeParse(mapping)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `${source}: ${prefix}${issue.path.join('.') || '(top)'}: ${issue.message}`,
    )
    throw new UsageError(lines.join('\n'), {
      code: 'invalid-mapping',
      hint: 'The mapping format is components: [{name, repository, tags: [...]}] and defaults: {tags: [...]}.',
    })
  }
  const data = parsed.data
  const names = new Set<string>()
  for (const [index, component] of (data.components ?? []).entries()) {
    if (names.has(component.name)) {
      throw new UsageError(`${source}: ${prefix}components[${index}].name: "${component.name}" is listed twice`, {
        code: 'invalid-mapping',
      })
    }
    names.add(component.name)
  }
  return {
    source,
    components: data.components?.map((component) => ({
      name: component.name,
      tags: component.tags,
      componentTags: component.componentTags,
      listed: component.repositories !== undefined,
      timestampFormat: component.timestampFormat,
      // Both given: Konflux pushes the repositories list and keeps `repository` only as a legacy field.
      targets: component.repositories
        ? component.repositories.map((r) => ({ repository: r.url, tags: r.tags }))
        : component.repository
          ? [{ repository: component.repository, tags: component.tags }]
          : undefined,
    })),
    defaultTags: data.defaults?.tags,
    timestampFormat: data.defaults?.timestampFormat,
  }
}
