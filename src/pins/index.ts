import { UsageError } from '../cli/errors.js'
import type { RepoSpec } from '../spec/index.js'
import { helmValuesStore } from './helm-values.js'
import { kustomizeImagesStore } from './kustomize-images.js'
import { manifestPatchesStore } from './manifest-patches.js'
import type { PinStore } from './types.js'

export { HELM_COMPONENTS_KEY, helmValuesPath, helmValuesStore } from './helm-values.js'
export { kustomizationPath, kustomizeImagePins, kustomizeImagesStore } from './kustomize-images.js'
export {
  imagePatchDir,
  imagePatchPath,
  isPlainScalar,
  manifestPatchesStore,
  splitReference,
} from './manifest-patches.js'
export { formatPinnedTag, parsePinnedTag } from './pinned-tag.js'
export { type LocatedDocument, locator, parseLocated, parseYamlFile } from './positions.js'
export type {
  ComponentPin,
  LocatedPin,
  PinFields,
  PinPosition,
  PinShape,
  PinStore,
  PinUpdate,
  ReadText,
} from './types.js'

/**
 * The pin store for a repo's flavour and updater. Helm values suit both updaters; a kustomize repo kept by
 * Dependabot needs manifest patches because Dependabot never reads a kustomization's `images:`.
 */
export function pinStoreFor(spec: Pick<RepoSpec, 'flavour' | 'updater'>): PinStore {
  if (spec.flavour === 'helm') return helmValuesStore
  if (spec.flavour === 'kustomize') return spec.updater === 'dependabot' ? manifestPatchesStore : kustomizeImagesStore
  throw new UsageError(`flavour ${String(spec.flavour)} is not supported`, {
    code: 'unsupported-shape',
    hint: 'Use flavour: kustomize or helm in konflux-gitops.yaml.',
  })
}
export { driftOf, memoTagResolver, type PinDrift, type TagResolver } from './drift.js'
