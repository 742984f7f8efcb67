import { UsageError } from '../cli/errors.js'
import type { RepoSpec } from '../spec/index.js'
import { kustomizeImagesStore } from './kustomize-images.js'
import type { PinStore } from './types.js'

export { kustomizationPath, kustomizeImagesStore, parseYamlFile } from './kustomize-images.js'
export { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
export type { ComponentPin, PinStore, PinUpdate, ReadText } from './types.js'

/** The pin store for a repo's flavour and updater. */
export function pinStoreFor(spec: Pick<RepoSpec, 'flavour' | 'updater'>): PinStore {
  if (spec.flavour === 'kustomize' && spec.updater === 'renovate') return kustomizeImagesStore
  throw new UsageError(`flavour ${spec.flavour} with updater ${spec.updater} is not supported yet`, {
    code: 'unsupported-shape',
    hint: 'Use flavour: kustomize and updater: renovate in konflux-gitops.yaml.',
  })
}
