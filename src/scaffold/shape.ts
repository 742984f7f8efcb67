import type { RepoSpec } from '../spec/index.js'
import type { DesiredFile, PlanInput } from './plan.js'
import { helmFlavour } from './shape-helm.js'
import { kustomizeFlavour } from './shape-kustomize.js'
import { dependabotUpdater, renovateUpdater } from './updaters.js'

/** What a flavour (kustomize overlays, Helm chart) contributes to the plan: manifests, pins and Argo CD objects. */
export interface FlavourPlanner {
  /** Files planning merges into, read from the tree before planning. */
  mergedPaths(spec: RepoSpec): string[]
  files(input: PlanInput, removedImages: readonly string[]): DesiredFile[]
  /** README text: pinForm, pinField, pinFile, mergedNote, layoutList. */
  readme(spec: RepoSpec): Record<'pinForm' | 'pinField' | 'pinFile' | 'mergedNote' | 'layoutList', string>
}

/** What an updater (Renovate, Dependabot) contributes: its configuration and any workflow it needs. */
export interface UpdaterPlanner {
  readonly displayName: string
  files(input: PlanInput): DesiredFile[]
  /** README lines about the updater's files (and secrets to set). */
  readme(spec: RepoSpec): string
}

export function flavourPlanner(spec: Pick<RepoSpec, 'flavour'>): FlavourPlanner {
  return spec.flavour === 'helm' ? helmFlavour : kustomizeFlavour
}

export function updaterPlanner(spec: Pick<RepoSpec, 'updater'>): UpdaterPlanner {
  return spec.updater === 'dependabot' ? dependabotUpdater : renovateUpdater
}
