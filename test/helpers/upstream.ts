/**
 * Validate a Kubernetes object against its upstream schema (test/fixtures/upstream: the CRDs of Konflux, Argo CD and
 * Tekton, and the Kubernetes swagger for core kinds), with unknown fields as errors: the API server would prune
 * them silently (or, with field validation Strict, refuse them), so a field it does not know is a bug here.
 *
 *   const errors = upstreamErrors(object)        // [] when valid; undefined when no upstream schema covers the kind
 *
 * Strictness: every object schema that lists properties gets additionalProperties: false, unless the schema keeps
 * unknown fields (x-kubernetes-preserve-unknown-fields) or already says what extra properties may be. CRD metadata
 * is checked against the Kubernetes ObjectMeta. A Tekton Pipeline's embedded taskSpec (kept as unknown fields by the
 * Pipeline CRD; Tekton's webhook checks it) is checked against the Task CRD's spec. CEL rules
 * (x-kubernetes-validations) are not evaluated.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { ROOT } from './cli.js'

const DIR = join(ROOT, 'test', 'fixtures', 'upstream')

type Schema = Record<string, unknown>

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict)
  if (!schema || typeof schema !== 'object') return schema
  const out: Schema = {}
  for (const [key, value] of Object.entries(schema as Schema)) {
    out[key] =
      key === 'properties' || key === 'definitions' || key === 'patternProperties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strict(v)]))
        : strict(value)
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false
  }
  return out
}

const core = JSON.parse(readFileSync(join(DIR, 'kubernetes-core.json'), 'utf8')) as {
  definitions: Record<string, Schema>
  kinds: Record<string, string>
}
const definitions = strict(core.definitions) as Record<string, Schema>
// Quantities and int-or-strings are written as YAML numbers too.
definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { anyOf: [{ type: 'integer' }, { type: 'string' }] }
definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { anyOf: [{ type: 'number' }, { type: 'string' }] }

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false })
ajv.addSchema({ $id: 'k8s', definitions })
const ref = (name: string) => ({ $ref: `k8s#/definitions/${name}` })
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'

/** `apiVersion/kind` → validator. */
const validators = new Map<string, ValidateFunction>()
let taskSpec: ValidateFunction | undefined

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'kubernetes-core.json')) {
  const crd = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { apiVersion: string; kind: string; schema: Schema }
  const schema = strict(crd.schema) as Schema & { properties: Record<string, Schema> }
  schema.properties.metadata = ref(OBJECT_META)
  validators.set(`${crd.apiVersion}/${crd.kind}`, ajv.compile(schema))
  if (crd.apiVersion === 'tekton.dev/v1' && crd.kind === 'Task') taskSpec = ajv.compile(schema.properties.spec!)
}
for (const [apiVersionKind, name] of Object.entries(core.kinds)) validators.set(apiVersionKind, ajv.compile(ref(name)))

const describe = (fn: ValidateFunction, at = '') =>
  (fn.errors ?? []).map(
    (e) =>
      `${at}${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`,
  )

/** The kinds an upstream schema covers, as `apiVersion/kind`. */
export const UPSTREAM_KINDS = [...validators.keys()]

/** Errors of one object against its upstream schema; undefined when none covers its apiVersion and kind. */
export function upstreamErrors(object: unknown): string[] | undefined {
  const { apiVersion, kind } = (object ?? {}) as { apiVersion?: string; kind?: string }
  const validate = validators.get(`${apiVersion}/${kind}`)
  if (!validate) return undefined
  const errors = validate(object) ? [] : describe(validate)
  if (apiVersion === 'tekton.dev/v1' && kind === 'Pipeline' && taskSpec) {
    const spec = (object as { spec?: { tasks?: unknown[]; finally?: unknown[] } }).spec
    for (const [list, tasks] of [
      ['tasks', spec?.tasks],
      ['finally', spec?.finally],
    ] as const) {
      for (const [index, task] of (tasks ?? []).entries()) {
        const embedded = (task as { taskSpec?: Record<string, unknown> }).taskSpec
        if (!embedded) continue
        // An embedded task may also carry metadata (labels, annotations) besides the Task spec.
        const { metadata: _metadata, ...rest } = embedded
        if (!taskSpec(rest)) errors.push(...describe(taskSpec, `/spec/${list}/${index}/taskSpec`))
      }
    }
  }
  return errors
}
