/**
 * What an attestation's predicate must say. SLSA provenance as Tekton Chains writes it: v0.2 keeps the builder in
 * `builder.id` and the sources in `materials[].digest` (and `invocation.configSource.digest`); v1 keeps them in
 * `runDetails.builder.id` and `buildDefinition.resolvedDependencies[].digest` (`gitCommit` or `sha1`).
 */
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2'
export const SLSA_V1 = 'https://slsa.dev/provenance/v1'
export const DEFAULT_PREDICATE_TYPES: readonly string[] = [SLSA_V02, SLSA_V1]

export interface AttestationPolicy {
  /** Predicate types accepted (default: SLSA provenance v0.2 and v1). */
  predicateTypes?: readonly string[]
  /** The builder id the provenance must name, e.g. `https://tekton.dev/chains/v2`. */
  builderId?: string
  /** A source commit the provenance must list among its materials (the Snapshot's revision). */
  sourceRevision?: string
}

type Json = Record<string, unknown>

function object(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(object) : []
}

function builderIdOf(predicateType: string, predicate: Json): string | undefined {
  const id = predicateType === SLSA_V1 ? object(object(predicate.runDetails).builder).id : object(predicate.builder).id
  return typeof id === 'string' ? id : undefined
}

function sourceDigestsOf(predicateType: string, predicate: Json): string[] {
  const entries =
    predicateType === SLSA_V1
      ? list(object(predicate.buildDefinition).resolvedDependencies)
      : [...list(predicate.materials), object(object(predicate.invocation).configSource)]
  return entries.flatMap((entry) =>
    Object.values(object(entry.digest)).filter((v): v is string => typeof v === 'string'),
  )
}

/** Why the predicate fails the policy, or undefined. */
export function checkPredicate(
  predicateType: string,
  predicateValue: unknown,
  policy: AttestationPolicy,
): string | undefined {
  const predicate = object(predicateValue)
  if (policy.builderId !== undefined) {
    const id = builderIdOf(predicateType, predicate)
    if (id !== policy.builderId) return `builder id is ${JSON.stringify(id ?? null)}, expected ${policy.builderId}`
  }
  if (policy.sourceRevision !== undefined) {
    const revision = policy.sourceRevision.toLowerCase()
    const digests = sourceDigestsOf(predicateType, predicate).map((d) => d.toLowerCase())
    if (!digests.includes(revision)) {
      return `the provenance does not list source commit ${policy.sourceRevision} (it lists ${digests.join(', ') || 'no source digest'})`
    }
  }
  return undefined
}
