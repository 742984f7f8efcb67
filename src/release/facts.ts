/**
 * What the tag templates read from the registry, read the way Konflux's apply-mapping reads it: the image's build
 * date, labels and version (for an index, its first platform's image, as Konflux takes the first architecture), and
 * each target repository's tag list for `{{ incrementer }}`. One place, so `release` and the releaser plan alike.
 */
import type { ImageRef } from '../image-ref/index.js'
import { childDescriptors, type RegistryClient, type RepositoryRef } from '../registry/index.js'
import type { SnapshotComponent } from '../snapshot/index.js'
import {
  type ImageFacts,
  imagesNeedingConfig,
  type PlanInput,
  type RepositoryLocation,
  repositoriesNeedingTagList,
} from './plan.js'

export const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json'

interface ImageConfig {
  created?: string
  config?: { Labels?: Record<string, string> | null }
}

/** Build date, labels and version of one image. */
export async function readImageFacts(client: RegistryClient, repo: RepositoryRef, digest: string): Promise<ImageFacts> {
  let manifest = await client.getManifest(repo, digest)
  const first = childDescriptors(manifest)[0]
  if (first) manifest = await client.getManifest(repo, first.digest)
  const config = manifest.parsed.config
  const annotations = (JSON.parse(manifest.bytes.toString('utf8')) as { annotations?: Record<string, string> })
    .annotations
  if (config?.mediaType === HELM_CONFIG) {
    // A Helm chart has no labels: Konflux reads its manifest annotations.
    return {
      buildDate: annotations?.['org.opencontainers.image.created'],
      labels: {},
      ociVersion: annotations?.['org.opencontainers.image.version'],
    }
  }
  let parsed: ImageConfig = {}
  if (config) {
    try {
      parsed = JSON.parse((await client.getBlob(repo, config.digest)).toString('utf8')) as ImageConfig
    } catch (error) {
      if (error instanceof SyntaxError) parsed = {}
      else throw error
    }
  }
  const labels = parsed.config?.Labels ?? {}
  return {
    buildDate: labels['build-date'] ?? labels['org.opencontainers.image.created'] ?? parsed.created,
    labels,
    ociVersion: labels['org.opencontainers.image.version'],
  }
}

/** Read what the plan's templates need: image facts per containerImage, tag lists per target repository. */
export async function readPlanFacts(
  client: RegistryClient,
  input: Omit<PlanInput, 'imageFacts' | 'existingTags'>,
): Promise<Pick<PlanInput, 'imageFacts' | 'existingTags'>> {
  const imageFacts: Record<string, ImageFacts> = {}
  const images: SnapshotComponent[] = imagesNeedingConfig(input)
  await Promise.all(
    images.map(async (component) => {
      const digest = component.image.digest ?? input.digests?.[component.name]
      if (!digest) return
      const repo: ImageRef = component.image
      imageFacts[component.containerImage] = await readImageFacts(client, repo, digest)
    }),
  )
  const repositories: RepositoryLocation[] = repositoriesNeedingTagList(input)
  const existingTags: Record<string, string[]> = {}
  await Promise.all(
    repositories.map(async (repo) => {
      existingTags[`${repo.registry}/${repo.path}`] = await client.listTags(repo)
    }),
  )
  return { imageFacts, existingTags }
}
