import { isMap, isScalar } from 'yaml'
import { HELM_COMPONENTS_KEY, helmValuesPath } from '../pins/index.js'
import { SPEC_FILE } from '../spec/index.js'
import type { CheckContext } from './context.js'
import { locate } from './yaml-docs.js'

/**
 * Helm repos (flavour: helm): each environment's values.yaml is what the chart reads. A key under components:
 * that the spec does not know deploys anyway (the chart ranges over components:), an entry without
 * image.{repository, tag} fails to render, a missing component renders nothing for it, and any other values file
 * in the folder is never passed to the chart. The image policy of the pins is check-pins' (through the pin seam).
 */
export function checkHelm(ctx: CheckContext): void {
  const spec = ctx.spec
  if (spec?.flavour !== 'helm') return
  const known = new Set(spec.components.map((c) => c.name))
  for (const env of spec.environments) {
    const file = helmValuesPath(env.name)
    checkIgnoredValues(ctx, env.name, file)
    const parsed = ctx.yaml.get(file)
    const doc = parsed?.docs[0]?.document
    if (!parsed || !doc || parsed.problems.length > 0) continue
    const node = doc.get(HELM_COMPONENTS_KEY, true)
    const empty = node === undefined || node === null || (isScalar(node) && node.value === null)
    if (!empty && !isMap(node)) {
      ctx.report(
        'helm-values-invalid',
        file,
        locate(parsed, 0, [HELM_COMPONENTS_KEY]),
        `${HELM_COMPONENTS_KEY}: must be a mapping of component name to values`,
      )
      continue
    }
    const present = new Set<string>()
    for (const pair of isMap(node) ? node.items : []) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      present.add(key)
      const path = [HELM_COMPONENTS_KEY, key]
      if (!known.has(key)) {
        ctx.report(
          'helm-component-unknown',
          file,
          locate(parsed, 0, path),
          `components.${key} is not a component of ${SPEC_FILE} (known: ${[...known].join(', ') || 'none'}); the chart deploys every key under components:`,
        )
        continue
      }
      const image = isMap(pair.value) ? pair.value.get('image', true) : undefined
      const repository = isMap(image) ? image.get('repository') : undefined
      if (!isMap(image) || typeof repository !== 'string') {
        ctx.report(
          'helm-values-invalid',
          file,
          locate(parsed, 0, [...path, 'image']),
          `components.${key} has no image: {repository, tag}; the chart cannot render it and no updater finds a pin`,
        )
      } else {
        const tag = image.get('tag')
        if (tag !== undefined && typeof tag !== 'string') {
          ctx.report(
            'helm-values-invalid',
            file,
            locate(parsed, 0, [...path, 'image', 'tag']),
            `components.${key}.image.tag must be a string (quote it)`,
          )
        }
      }
    }
    for (const component of spec.components) {
      if (present.has(component.name)) continue
      ctx.report(
        'kustomize-image-missing',
        file,
        locate(parsed, 0, empty ? [] : [HELM_COMPONENTS_KEY]),
        `no components.${component.name} entry in ${file}: environment "${env.name}" has no pin for ${component.image}, and the chart cannot render it`,
        `Add components: {${component.name}: {image: {repository: ${component.image}, tag: "${spec.tag}"}}} to ${file} (init writes it).`,
      )
    }
  }
}

/** Argo CD passes the chart environments/<env>/values.yaml only: any other YAML in the folder is ignored. */
function checkIgnoredValues(ctx: CheckContext, env: string, valuesFile: string): void {
  if (!ctx.enabled('helm-values-ignored')) return
  const prefix = `environments/${env}/`
  for (const path of [...ctx.tree.files.keys()].sort()) {
    if (!path.startsWith(prefix) || path === valuesFile || !/\.ya?ml$/i.test(path)) continue
    const holdsPins = /(^|\n)\s*(components|image|repository|tag)\s*:/.test(
      (() => {
        const entry = ctx.tree.files.get(path)
        return entry?.kind === 'text' ? entry.text : ''
      })(),
    )
    ctx.report(
      'helm-values-ignored',
      path,
      { line: 1, column: 1 },
      `the chart never reads ${path}: Argo CD deploys environment "${env}" with ${valuesFile} only${holdsPins ? ', so the images set here never deploy (though an updater may keep moving them)' : ''}`,
    )
  }
}
