import type { RepoSpec } from '../spec/index.js'

/** Synchronous read of a repo-relative file; undefined when it does not exist. */
export type ReadText = (path: string) => string | undefined

/** 1-based line and column in a file, from the `yaml` node ranges. */
export interface PinPosition {
  readonly line: number
  readonly column: number
}

/** Where the parts of one pin are written: validate's findings point here. */
export interface PinFields {
  /** The entry itself (kustomize `- name:`, Helm `components.<key>:`, the patch's container). */
  readonly entry: PinPosition
  /** The repository as written (kustomize `newName`, else `name`; Helm `image.repository`; the patch's `image:`). */
  readonly repository: PinPosition
  /** The tag (kustomize `newTag`, Helm `image.tag`, the patch's `image:`); null when there is none. */
  readonly tag: PinPosition | null
  /** A separate digest key beside the tag (kustomize `digest:`, Helm `image.digest`); null when there is none. */
  readonly digest: PinPosition | null
}

/** One image pin as found in an environment. */
export interface ComponentPin {
  /** The spec component whose image this is; undefined for an image the spec does not know. */
  readonly component: string | undefined
  /**
   * The image repository as written: what the environment deploys (kustomize `newName` when set, else `name`; Helm
   * `image.repository`; the patch's `image:` without tag and digest).
   */
  readonly repository: string
  /** Repo-relative file the pin lives in. */
  readonly file: string
  readonly tag: string | undefined
  /** The digest the pin deploys (inside the tag, `<tag>@sha256:…`; kustomize also reads a separate digest:). */
  readonly digest: string | undefined
}

/** A pin as the store read it: where it is written, and how the entry names itself. */
export interface LocatedPin extends ComponentPin {
  /** How the entry names itself: kustomize `name`, the Helm key under `components:`, the patch's container name. */
  readonly name: string
  /** Where the pin's tag is (or the entry, when it has no tag): 1-based, from the yaml node ranges. */
  readonly line: number
  readonly column: number
  readonly at: PinFields
  /** The value of a separate digest key beside the tag, which no updater reads; undefined when absent. */
  readonly separateDigest: string | undefined
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
  read(spec: RepoSpec, env: string, readText: ReadText): LocatedPin[]
  /** New text for each file that holds pins, from the current text (or a fresh file when absent). */
  write(spec: RepoSpec, env: string, readText: ReadText, update: PinUpdate): Map<string, string>
}
