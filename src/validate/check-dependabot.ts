import { matchesGlob } from 'node:path'
import { isMap, isSeq } from 'yaml'
import { imagePatchPath, isPlainScalar, pinStoreFor } from '../pins/index.js'
import type { RepoSpec } from '../spec/index.js'
import { type CheckContext, isRecord } from './context.js'
import { locate } from './yaml-docs.js'

const CONFIG_FILES = ['.github/dependabot.yml', '.github/dependabot.yaml']

/** The `directory`/`directories` of every docker update in dependabot.yml, as written (leading `/`). */
function listedDirectories(value: unknown): string[] {
  if (!isRecord(value) || !Array.isArray(value.updates)) return []
  const out: string[] = []
  for (const update of value.updates) {
    if (!isRecord(update) || update['package-ecosystem'] !== 'docker') continue
    if (typeof update.directory === 'string') out.push(update.directory)
    if (Array.isArray(update.directories)) out.push(...update.directories.filter((d) => typeof d === 'string'))
  }
  return out
}

/** Dependabot reads only the listed directories themselves (globs allowed), never their subdirectories. */
function isListed(listed: readonly string[], dir: string): boolean {
  const normalise = (d: string) => `/${d.replace(/^\/+|\/+$/g, '')}`
  const wanted = normalise(dir)
  return listed.some((entry) => {
    const pattern = normalise(entry)
    return pattern === wanted || (/[*?[{]/.test(pattern) && matchesGlob(wanted, pattern))
  })
}

/**
 * With `updater: dependabot`, every pin must be where Dependabot looks: a directory listed in dependabot.yml, under
 * the key `image`, and (in manifests) an unquoted string. Anything else is a pin that silently never moves.
 */
export function checkDependabot(ctx: CheckContext): void {
  const spec = ctx.spec
  if (spec?.updater !== 'dependabot' || !ctx.enabled('dependabot-pin-invisible')) return
  const configPath = CONFIG_FILES.find((f) => ctx.yaml.has(f))
  if (!configPath) {
    ctx.report(
      'dependabot-pin-invisible',
      CONFIG_FILES[0]!,
      null,
      'updater is dependabot but there is no .github/dependabot.yml: Dependabot sees none of the pins',
    )
    return
  }
  const listed = listedDirectories(ctx.yaml.get(configPath)?.docs[0]?.value)
  const store = pinStoreFor(spec)
  for (const env of spec.environments) {
    for (const file of store.files(spec, env.name)) {
      if (!ctx.tree.files.has(file)) continue
      const dir = file.slice(0, file.lastIndexOf('/'))
      if (!isListed(listed, dir)) {
        ctx.report(
          'dependabot-pin-invisible',
          file,
          { line: 1, column: 1 },
          `${file} is in /${dir}, which ${configPath} does not list: add a docker update with directory: /${dir}`,
        )
      }
    }
    // Helm values: an entry without image: and a digest: beside tag: are helm-values-invalid and
    // image-tag-and-digest, on both updaters.
    if (store.shape === 'manifest-patches') checkPatches(ctx, spec, env.name)
  }
}

function checkPatches(ctx: CheckContext, spec: RepoSpec, env: string): void {
  for (const component of spec.components) {
    const file = imagePatchPath(env, component.name)
    const parsed = ctx.yaml.get(file)
    const doc = parsed?.docs[0]?.document
    if (!parsed || !doc) continue
    const containers = doc.getIn(['spec', 'template', 'spec', 'containers'], true)
    const index = isSeq(containers)
      ? containers.items.findIndex((item) => isMap(item) && item.get('name') === component.name)
      : -1
    if (index < 0) continue
    const path = ['spec', 'template', 'spec', 'containers', index, 'image']
    const node = doc.getIn(path, true)
    if (node !== undefined && !isPlainScalar(node)) {
      ctx.report(
        'dependabot-pin-invisible',
        file,
        locate(parsed, 0, path),
        `the image: of ${component.name} is quoted; Dependabot skips quoted image strings: write it unquoted`,
      )
    }
  }
  const overlay = `environments/${env}/kustomization.yaml`
  const value = ctx.yaml.get(overlay)?.docs[0]?.value
  const images = isRecord(value) && Array.isArray(value.images) ? value.images : []
  images.forEach((entry, index) => {
    if (!isRecord(entry) || !spec.components.some((c) => c.image === entry.name)) return
    ctx.report(
      'dependabot-pin-invisible',
      overlay,
      locate(ctx.yaml.get(overlay), 0, ['images', index]),
      `images: entry for ${String(entry.name)}: Dependabot never reads kustomize images:, and it overrides the image patch; move the pin to images/ and delete the entry`,
    )
  })
}
