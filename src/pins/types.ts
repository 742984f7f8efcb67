import type { RepoSpec } from '../spec/index.js'

/** Synchronous read of a repo-relative file; undefined when it does not exist. */
export type ReadText = (path: string) => string | undefined

/** One image pin as found in an environment. */
export interface ComponentPin {
  /** The spec component whose image this is; undefined for an image the spec does not know. */
  readonly component: string | undefined
  readonly repository: string
  /** Repo-relative file the pin lives in. */
  readonly file: string
  readonly tag: string | undefined
  readonly digest: string | undefined
}

export interface PinUpdate {
  /** component name → digest to pin now. Components not listed keep their digest while their tag is unchanged. */
  readonly pins?: ReadonlyMap<string, string>
  /** Image repositories of components that left the spec: their pins are removed. */
  readonly removeRepositories?: readonly string[]
}

/** kustomize `images:` (Renovate), Helm values (Renovate or Dependabot), manifest patches (Dependabot + kustomize). */
export type PinShape = 'kustomize-images' | 'helm-values' | 'manifest-patches'

/**
 * The one seam every command uses to find, read and write an environment's image pins. Today's shape is
 * kustomize `images:`; Helm values and Dependabot manifest patches (issue 10) are further implementations.
 * Every spec component gets a pin entry on write; everything else in the file (comments, order, other keys) stays.
 */
export interface PinStore {
  readonly shape: PinShape
  /** Repo-relative files holding this environment's pins. */
  files(spec: RepoSpec, env: string): string[]
  read(spec: RepoSpec, env: string, readText: ReadText): ComponentPin[]
  /** New text for each file that holds pins, from the current text (or a fresh file when absent). */
  write(spec: RepoSpec, env: string, readText: ReadText, update: PinUpdate): Map<string, string>
}
