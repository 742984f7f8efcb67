import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { UsageError } from '../cli/errors.js'
import { type ImageRef, ImageRefError, parseImageRef } from '../image-ref/index.js'

/** The parts of a Konflux Snapshot (appstudio.redhat.com/v1alpha1) this tool reads. */
const snapshotSchema = z.object({
  apiVersion: z.string().regex(/^appstudio\.redhat\.com\//, 'must be appstudio.redhat.com/<version>'),
  kind: z.literal('Snapshot'),
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({
    /** The Application model; a ComponentGroup Snapshot names spec.componentGroup instead. */
    application: z.string().optional(),
    componentGroup: z.string().optional(),
    displayName: z.string().optional(),
    components: z
      .array(
        z.object({
          name: z.string().min(1),
          /** The component version (ComponentGroup model): name and version together identify a component. */
          version: z.string().optional(),
          containerImage: z.string().min(1),
          source: z
            .object({ git: z.object({ url: z.string().optional(), revision: z.string().optional() }).optional() })
            .optional(),
        }),
      )
      .min(1, 'a Snapshot must list at least one component'),
  }),
  status: z
    .object({
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
})

export type SnapshotObject = z.infer<typeof snapshotSchema>

export interface SnapshotComponent {
  readonly name: string
  /** The component version, when the Snapshot lists versions (two versions of one component are two entries). */
  readonly version: string | undefined
  readonly containerImage: string
  readonly image: ImageRef
  readonly gitUrl: string | undefined
  readonly gitRevision: string | undefined
}

export interface Snapshot {
  readonly name: string
  readonly namespace: string | undefined
  /** spec.application, or for a ComponentGroup Snapshot its spec.componentGroup: whose Snapshot it is. */
  readonly application: string
  /** spec.componentGroup when the Snapshot belongs to a ComponentGroup (no application). */
  readonly componentGroup: string | undefined
  readonly createdAt: string | undefined
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
  readonly components: readonly SnapshotComponent[]
  readonly conditions: readonly {
    type: string
    status: string
    reason?: string | undefined
    message?: string | undefined
  }[]
  readonly raw: SnapshotObject
}

/** Parse a Snapshot from YAML or JSON text (JSON is YAML). `source` names the file in errors. */
export function parseSnapshot(text: string, source = 'snapshot'): Snapshot {
  let docs: ReturnType<typeof parseAllDocuments>
  try {
    docs = parseAllDocuments(text) as ReturnType<typeof parseAllDocuments>
  } catch (error) {
    throw new UsageError(`${source}: cannot parse: ${(error as Error).message}`, { code: 'invalid-snapshot' })
  }
  if (!Array.isArray(docs)) throw new UsageError(`${source}: not a YAML or JSON document`, { code: 'invalid-snapshot' })
  const nonEmpty = docs.filter((doc) => doc.contents !== null)
  if (nonEmpty.length !== 1) {
    throw new UsageError(`${source}: expected one Snapshot document, found ${nonEmpty.length}`, {
      code: 'invalid-snapshot',
    })
  }
  const doc = nonEmpty[0]!
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const pos = first.linePos?.[0]
    throw new UsageError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first.message.split('\n')[0]}`, {
      code: 'invalid-snapshot',
    })
  }
  return snapshotFromObject(doc.toJS({ maxAliasCount: 100 }), source)
}

/**
 * A Snapshot from an already parsed value (e.g. `JSON.parse` of a webhook body: many times faster than the YAML
 * parser on a large Snapshot). Same checks and errors as parseSnapshot.
 */
export function snapshotFromObject(value: unknown, source = 'snapshot'): Snapshot {
  const parsed = snapshotSchema.safeParse(value)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    )
    throw new UsageError(lines.join('\n'), {
      code: 'invalid-snapshot',
      hint: 'Pass a Konflux Snapshot (kubectl get snapshot NAME -o yaml).',
    })
  }
  const raw = parsed.data
  const owner = raw.spec.application || raw.spec.componentGroup
  if (!owner) {
    throw new UsageError(`${source}: spec: names neither application nor componentGroup`, {
      code: 'invalid-snapshot',
      hint: 'A Konflux Snapshot belongs to an Application (spec.application) or a ComponentGroup (spec.componentGroup).',
    })
  }
  const seen = new Map<string, number>()
  const components = raw.spec.components.map((component, index) => {
    let image: ImageRef
    try {
      image = parseImageRef(component.containerImage)
    } catch (error) {
      const reason = error instanceof ImageRefError ? error.message : String(error)
      throw new UsageError(`${source}: spec.components[${index}].containerImage: ${reason}`, {
        code: 'invalid-snapshot',
      })
    }
    const key = `${component.name}/${component.version ?? ''}`
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      throw new UsageError(
        `${source}: spec.components[${index}]: component ${component.name}${component.version ? ` version ${component.version}` : ''} is listed twice (also spec.components[${earlier}])`,
        { code: 'invalid-snapshot', hint: 'Name and version together identify a Snapshot component.' },
      )
    }
    seen.set(key, index)
    return {
      name: component.name,
      version: component.version || undefined,
      containerImage: component.containerImage,
      image,
      gitUrl: component.source?.git?.url,
      gitRevision: component.source?.git?.revision,
    }
  })
  return {
    name: raw.metadata.name,
    namespace: raw.metadata.namespace,
    application: owner,
    componentGroup: raw.spec.application ? undefined : raw.spec.componentGroup,
    createdAt: raw.metadata.creationTimestamp,
    labels: raw.metadata.labels ?? {},
    annotations: raw.metadata.annotations ?? {},
    components,
    conditions: raw.status?.conditions ?? [],
    raw,
  }
}
