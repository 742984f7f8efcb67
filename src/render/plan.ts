import { Document } from 'yaml'
import { UserError } from '../cli/errors.js'
import { formatImageRef, repository } from '../image-ref/index.js'
import type { ComponentPin } from '../pins/index.js'
import type { Snapshot } from '../snapshot/index.js'
import type { EnvironmentSpec, RepoSpec } from '../spec/index.js'

/** Marks a kustomization this command wrote, so a re-run may replace it and never a user's own file. */
export const RENDER_MARKER = 'konflux-gitops render'

export type ImageSource = 'snapshot' | 'pin' | 'tag'

export interface RenderedImage {
  readonly component: string
  readonly repository: string
  /** The reference the built manifests carry for this component. */
  readonly image: string
  readonly digest: string | null
  /** snapshot: the Snapshot's digest; pin: the environment's pinned digest; tag: the spec's tag, unpinned. */
  readonly source: ImageSource
}

export interface RenderPlanInput {
  readonly spec: RepoSpec
  /** The environment overlay to build on; undefined builds on the component bases. */
  readonly env: EnvironmentSpec | undefined
  /** That environment's pins (through the pin seam); ignored without env. */
  readonly pins: readonly ComponentPin[]
  readonly snapshot: Snapshot
  readonly namespace: string | undefined
  readonly allowUnknown: boolean
  /** Relative POSIX path from the output folder to the repository root: kustomize refuses absolute resources. */
  readonly outToRepo: string
}

export interface RenderPlan {
  readonly kustomization: string
  readonly namespace: string | null
  readonly images: readonly RenderedImage[]
  readonly warnings: readonly string[]
}

interface ImageEntry {
  name: string
  newName?: string
  newTag?: string
  digest?: string
}

/**
 * Decide the overlay for a Snapshot: every Snapshot component at its exact digest, everything else as the
 * environment pins it. Kustomize does the rest; nothing here re-implements it.
 */
export function planRender(input: RenderPlanInput): RenderPlan {
  const { spec, env, snapshot } = input
  const problems: string[] = []
  const warnings: string[] = []
  const entries: ImageEntry[] = []
  const images: RenderedImage[] = []
  const fromSnapshot = new Set<string>()

  if (snapshot.application !== spec.app) {
    warnings.push(
      `Snapshot ${snapshot.name} is for ${snapshot.componentGroup ? 'component group' : 'application'} "${snapshot.application}", this repo deploys "${spec.app}"`,
    )
  }

  const versionsOf = new Map<string, string[]>()
  for (const item of snapshot.components) {
    versionsOf.set(item.name, [...(versionsOf.get(item.name) ?? []), item.version ?? '(none)'])
  }
  for (const item of snapshot.components) {
    // A component version (ComponentGroup model) deploys as the repo component NAME-VERSION when there is one,
    // else as NAME when the Snapshot has only that one version of it.
    const versioned = item.version
      ? `${item.name}-${item.version.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`
      : undefined
    const exact = versioned ? spec.components.find((c) => c.name === versioned) : undefined
    const label = `"${item.name}"${item.version ? ` version ${item.version}` : ''}`
    const versions = versionsOf.get(item.name) ?? []
    if (!exact && versions.length > 1) {
      problems.push(
        `Snapshot component ${label} (${item.containerImage}): the Snapshot has versions ${versions.join(', ')} of ${item.name} and this repo has no component ${versioned ?? item.name} to deploy this one as`,
      )
      continue
    }
    const component = exact ?? spec.components.find((c) => c.name === item.name)
    if (!component) {
      problems.push(
        `Snapshot component ${label} (${item.containerImage}) is not a component of this repo (known: ${spec.components.map((c) => c.name).join(', ') || 'none'})`,
      )
      continue
    }
    const digest = item.image.digest
    if (digest === undefined) {
      throw new UserError(
        `Snapshot component "${item.name}": containerImage ${item.containerImage} has no @sha256: digest, so it cannot be deployed exactly`,
        {
          code: 'snapshot-unpinned',
          exit: 2,
          hint: 'Use the Snapshot Konflux created: its images are pinned by digest.',
        },
      )
    }
    const snapshotRepository = repository(item.image)
    if (env && !input.pins.some((pin) => pin.component === component.name)) {
      warnings.push(
        `environment ${env.name} has no image entry for component "${component.name}": its overlay may not deploy it`,
      )
    }
    fromSnapshot.add(component.name)
    if (snapshotRepository !== component.image) {
      const message = `component "${component.name}": the Snapshot's image repository ${snapshotRepository} differs from the repo's ${component.image}`
      if (!input.allowUnknown) {
        problems.push(message)
        continue
      }
      warnings.push(`${message}; deploying the Snapshot's image`)
      entries.push({ name: component.image, newName: snapshotRepository, digest })
    } else {
      entries.push({ name: component.image, digest })
    }
    images.push({
      component: component.name,
      repository: snapshotRepository,
      image: formatImageRef({ registry: item.image.registry, path: item.image.path, digest }),
      digest,
      source: 'snapshot',
    })
  }

  if (problems.length > 0 && !input.allowUnknown) {
    throw new UserError(`the Snapshot does not match this repo:\n  ${problems.join('\n  ')}`, {
      code: 'snapshot-mismatch',
      hint: 'Render a Snapshot of this application, add the component (konflux-gitops component add), or pass --allow-unknown to skip such components with a warning.',
    })
  }
  warnings.push(...problems.map((problem) => `${problem}; skipped`))

  for (const component of spec.components) {
    if (fromSnapshot.has(component.name)) continue
    const pin = env ? input.pins.find((p) => p.component === component.name) : undefined
    if (pin?.digest) {
      images.push({
        component: component.name,
        repository: component.image,
        image: `${component.image}:${pin.tag ?? spec.tag}@${pin.digest}`,
        digest: pin.digest,
        source: 'pin',
      })
      continue
    }
    const tag = pin?.tag ?? spec.tag
    // Without an environment the bases carry no tag at all: pick the spec's tag rather than an implicit :latest.
    if (!env) entries.push({ name: component.image, newTag: tag })
    images.push({
      component: component.name,
      repository: component.image,
      image: `${component.image}:${tag}`,
      digest: null,
      source: 'tag',
    })
  }

  const namespace = input.namespace ?? null
  const resources = env
    ? [joinPosix(input.outToRepo, `environments/${env.name}`)]
    : spec.components.map((c) => joinPosix(input.outToRepo, `components/${c.name}/base`))
  const body: Record<string, unknown> = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
  }
  if (namespace) body.namespace = namespace
  body.resources = resources
  if (entries.length > 0) body.images = entries
  const doc = new Document(body)
  doc.commentBefore = [
    ` Written by ${RENDER_MARKER} from Snapshot ${snapshot.name}: deploys exactly its images on top of`,
    ` ${env ? `environments/${env.name}` : 'the component bases'}. Build it with: kubectl kustomize <this folder>`,
  ].join('\n')
  return { kustomization: doc.toString({ lineWidth: 0 }), namespace, images, warnings }
}

function joinPosix(base: string, path: string): string {
  if (base === '' || base === '.') return path
  return `${base.replace(/\/+$/, '')}/${path}`
}
