import { isSha256Digest, repository, tryParseImageRef } from '../image-ref/index.js'
import { type LocatedPin, type PinPosition, type PinShape, type PinStore, pinStoreFor } from '../pins/index.js'
import { type RepoSpec, SPEC_FILE } from '../spec/index.js'
import type { CheckContext } from './context.js'
import { type ImagePolicy, imagePolicyOf, registryAllowed } from './image-policy.js'

const DIGEST_LIKE = /^[A-Za-z][A-Za-z0-9+._-]*:/

/** How a shape spells its pin fields, so a message names the key the user edits. */
interface Vocabulary {
  tag: string
  digest: string
  /** `<where> ` prefix naming the entry. */
  entry(pin: LocatedPin): string
}

const VOCABULARY: Record<PinShape, Vocabulary> = {
  'kustomize-images': { tag: 'newTag', digest: 'digest', entry: (pin) => pin.name },
  'helm-values': { tag: 'tag', digest: 'digest', entry: (pin) => `components.${pin.name}.image` },
  'manifest-patches': { tag: 'image:', digest: 'digest', entry: (pin) => `the image: of ${pin.name}` },
}

/** The repo's own updater, for hints: never "Renovate" on a Dependabot repo. */
export function updaterName(spec: Pick<RepoSpec, 'updater'> | undefined): string {
  return spec?.updater === 'dependabot' ? 'Dependabot' : 'Renovate'
}

/**
 * Hints for the shapes whose keys differ from the kustomize wording of the rule table. Undefined keeps the rule's
 * own hint.
 */
function hintFor(rule: string, shape: PinShape, spec: RepoSpec | undefined): string | undefined {
  const updater = updaterName(spec)
  const tag = spec?.tag ?? 'released'
  if (shape === 'helm-values') {
    switch (rule) {
      case 'image-tag-and-digest':
        return `Move the digest into tag (\`tag: "${tag}@sha256:<digest>"\`) and delete digest:: the chart renders repository:tag only.`
      case 'image-untagged':
        return `Set \`tag: "${tag}"\` (or "${tag}@sha256:<digest>") under components.<component>.image in the values file.`
      case 'image-unpinned':
        return `Write \`tag: "${tag}@sha256:<digest>"\` (\`init --pin\` resolves it), or let ${updater} pin it.`
      case 'image-tag-policy':
      case 'image-latest':
        return `Set tag: "${tag}@sha256:<digest>" under components.<component>.image: the tag ${SPEC_FILE} names, pinned by digest.`
    }
  }
  if (shape === 'manifest-patches') {
    switch (rule) {
      case 'image-untagged':
        return `Write \`image: <repository>:${tag}\` (unquoted) in the image patch, as init does.`
      case 'image-unpinned':
        return `Write \`image: <repository>:${tag}@sha256:<digest>\` (\`init --pin\` resolves it), or let ${updater} pin it.`
      case 'image-tag-policy':
      case 'image-latest':
        return `Write image: <repository>:${tag}@sha256:<digest> (unquoted) in the image patch.`
    }
  }
  if (rule === 'image-unpinned' && spec?.updater === 'dependabot') {
    return `Write \`newTag: ${tag}@sha256:<digest>\` (\`init --pin\` resolves it); Dependabot does not read images: entries.`
  }
  return undefined
}

/**
 * The image policy of one pin, whatever its shape: tag latest, untagged, a tag other than the spec's, unpinned
 * where allowUnpinned is off, a registry outside the allowed prefixes, a digest beside the tag, a malformed digest.
 */
export function checkPinPolicy(ctx: CheckContext, pin: LocatedPin, policy: ImagePolicy, shape: PinShape): void {
  const words = VOCABULARY[shape]
  const report = (rule: Parameters<CheckContext['report']>[0], at: PinPosition | null, message: string) =>
    ctx.report(rule, pin.file, at ?? pin.at.entry, message, hintFor(rule, shape, ctx.spec))
  const where = words.entry(pin)
  const tagValue = pin.tag === undefined ? (pin.digest ?? '') : pin.tag
  if (pin.separateDigest !== undefined && pin.tag !== undefined) {
    report(
      'image-tag-and-digest',
      pin.at.digest,
      shape === 'helm-values'
        ? `${where}.digest is read by neither Renovate nor Dependabot, and the chart ignores it: write tag: "${pin.tag}@${pin.separateDigest}"`
        : `${where}: ${words.tag} and ${words.digest} are both set; write ${words.tag}: "${pin.tag}@${pin.separateDigest}"`,
    )
  }
  const digests = [pin.digest, pin.separateDigest].filter((d): d is string => d !== undefined)
  for (const digest of new Set(digests)) {
    if (isSha256Digest(digest)) continue
    const inTag = digest === pin.digest && pin.separateDigest !== digest
    report(
      'image-digest-format',
      inTag ? pin.at.tag : pin.at.digest,
      `${where}: digest "${digest}" is not sha256:<64 lowercase hex>${DIGEST_LIKE.test(digest) ? '' : ' (missing the sha256: prefix?)'}`,
    )
  }
  const ref = tryParseImageRef(pin.repository)
  if (ref?.tag === 'latest') report('image-latest', pin.at.repository, `${pin.repository} uses the tag latest`)
  if (ref && !registryAllowed(policy, repository(ref))) {
    report(
      'image-registry-not-allowed',
      pin.at.repository,
      `${repository(ref)} is outside the allowed registries (${policy.prefixes.join(', ')})`,
    )
  }
  const tag = pin.tag
  if (tag === 'latest') {
    report('image-latest', pin.at.tag, `${where} uses the tag latest; use "${policy.tag}" pinned by digest`)
  } else if (tag === undefined && pin.digest === undefined) {
    report(
      'image-untagged',
      pin.at.tag,
      shape === 'manifest-patches'
        ? `${where} has neither tag nor digest`
        : `${where} has no ${words.tag}; ${shape === 'helm-values' ? 'the chart cannot render it' : "the base's untagged image would be deployed"}`,
    )
  } else if (tag === undefined) {
    report(
      'image-tag-policy',
      pin.at.tag ?? pin.at.digest,
      `${where} pins a digest without the tag "${policy.tag}"; the updater then tracks it as latest`,
    )
  } else if (tag !== policy.tag && ref && (!policy.componentRepos || policy.componentRepos.has(repository(ref)))) {
    report(
      'image-tag-policy',
      pin.at.tag,
      `${where} uses tag "${tag}"; this repo deploys "${policy.tag}" (set in ${SPEC_FILE})`,
    )
  }
  if (tag !== undefined && tag !== 'latest' && pin.digest === undefined && !policy.allowUnpinned) {
    report(
      'image-unpinned',
      pin.at.tag,
      `${pin.repository}:${tagValue} is not pinned by digest and ${SPEC_FILE} sets allowUnpinned: false`,
    )
  }
}

/** Synchronous reads of the validated tree, for the pin seam. */
export function treeReader(ctx: Pick<CheckContext, 'tree'>): (path: string) => string | undefined {
  return (path) => {
    const entry = ctx.tree.files.get(path)
    return entry?.kind === 'text' ? entry.text : undefined
  }
}

export interface EnvironmentPins {
  env: string
  pins: LocatedPin[]
}

/**
 * Every environment's pins through the pin seam. A file that does not parse is skipped: the YAML and shape checks
 * report it with its line.
 */
export function readEnvironmentPins(ctx: CheckContext, spec: RepoSpec, store: PinStore): EnvironmentPins[] {
  const readText = treeReader(ctx)
  const out: EnvironmentPins[] = []
  for (const env of spec.environments) {
    try {
      out.push({ env: env.name, pins: store.read(spec, env.name, readText) })
    } catch {
      out.push({ env: env.name, pins: [] })
    }
  }
  return out
}

/** Pin files validate's pin check owns, so the kustomization walk does not check the same entries twice. */
export function pinFilesOf(spec: RepoSpec | undefined): Set<string> {
  if (!spec) return new Set()
  try {
    const store = pinStoreFor(spec)
    return new Set(spec.environments.flatMap((env) => store.files(spec, env.name)))
  } catch {
    return new Set()
  }
}

/** The image policy over every environment's pins, on every shape, read through the one pin reader. */
export function checkPins(ctx: CheckContext): void {
  const spec = ctx.spec
  if (!spec) return
  let store: PinStore
  try {
    store = pinStoreFor(spec)
  } catch {
    return
  }
  const policy = imagePolicyOf(ctx)
  const skip = ctx.invalidPinEntries
  for (const { pins } of readEnvironmentPins(ctx, spec, store)) {
    for (const pin of pins) {
      if (skip.has(`${pin.file}:${pin.at.entry.line}:${pin.at.entry.column}`)) continue
      checkPinPolicy(ctx, pin, policy, store.shape)
    }
  }
}
