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
    application: z.string().min(1),
    displayName: z.string().optional(),
    components: z
      .array(
        z.object({
          name: z.string().min(1),
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
  readonly containerImage: string
  readonly image: ImageRef
  readonly gitUrl: string | undefined
  readonly gitRevision: string | undefined
}

export interface Snapshot {
  readonly name: string
  readonly namespace: string | undefined
  readonly application: string
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

export const EVENT_TYPE_LABEL = 'pac.test.appstudio.openshift.io/event-type'
export const SNAPSHOT_TYPE_LABEL = 'test.appstudio.openshift.io/type'
export const AUTO_RELEASE_LABEL = 'release.appstudio.openshift.io/auto-release'
export const TEST_SUCCEEDED = 'AppStudioTestSucceeded'

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
  const parsed = snapshotSchema.safeParse(doc.toJS({ maxAliasCount: 100 }))
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
    return {
      name: component.name,
      containerImage: component.containerImage,
      image,
      gitUrl: component.source?.git?.url,
      gitRevision: component.source?.git?.revision,
    }
  })
  return {
    name: raw.metadata.name,
    namespace: raw.metadata.namespace,
    application: raw.spec.application,
    createdAt: raw.metadata.creationTimestamp,
    labels: raw.metadata.labels ?? {},
    annotations: raw.metadata.annotations ?? {},
    components,
    conditions: raw.status?.conditions ?? [],
    raw,
  }
}

export interface GateResult {
  readonly releasable: boolean
  readonly reasons: readonly string[]
}

/**
 * The release gate Konflux's integration-service applies before it creates a Release:
 * tests passed, a push (not a pull request) build, not a group Snapshot, auto-release not turned off,
 * and every image pinned by digest.
 */
export function releaseGate(snapshot: Snapshot): GateResult {
  const reasons: string[] = []
  const tested = snapshot.conditions.find((condition) => condition.type === TEST_SUCCEEDED)
  if (!tested)
    reasons.push(`condition ${TEST_SUCCEEDED} is missing: the Snapshot has not finished its integration tests`)
  else if (tested.status !== 'True') {
    reasons.push(
      `condition ${TEST_SUCCEEDED} is ${tested.status}${tested.reason ? ` (${tested.reason})` : ''}: its integration tests did not pass`,
    )
  }
  const event = snapshot.labels[EVENT_TYPE_LABEL]
  if (event !== undefined && event !== 'push' && event !== 'Push') {
    reasons.push(`label ${EVENT_TYPE_LABEL} is "${event}": only push builds are released`)
  }
  if (event === undefined) reasons.push(`label ${EVENT_TYPE_LABEL} is missing: cannot tell it is a push build`)
  if (snapshot.labels[SNAPSHOT_TYPE_LABEL] === 'group')
    reasons.push('it is a group Snapshot (label test.appstudio.openshift.io/type: group)')
  if (snapshot.labels[AUTO_RELEASE_LABEL] === 'false') reasons.push(`label ${AUTO_RELEASE_LABEL} is "false"`)
  for (const component of snapshot.components) {
    if (component.image.digest === undefined || !component.image.digest.startsWith('sha256:')) {
      reasons.push(
        `component ${component.name}: containerImage ${component.containerImage} is not pinned by @sha256: digest`,
      )
    }
  }
  return { releasable: reasons.length === 0, reasons }
}
