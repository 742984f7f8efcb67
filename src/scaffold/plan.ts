import type { Document } from 'yaml'
import { ownVersion } from '../cli/package-info.js'
import { integrationTestFiles } from '../integration/plan.js'
import type { ReadText } from '../pins/index.js'
import { autoMergeOf, namespaceOf, type RepoSpec, renderSpec, SPEC_FILE } from '../spec/index.js'
import { REPO_URL_PLACEHOLDER } from './argocd.js'
import { flavourPlanner, updaterPlanner } from './shape.js'
import { renderTemplate } from './templates.js'

export { REPO_URL_PLACEHOLDER } from './argocd.js'
export { componentBase } from './shape-kustomize.js'

/** A file as the spec wants it. `merged` files are combined with the user's version; others replace it. */
export interface DesiredFile {
  readonly path: string
  readonly content: string
  readonly merged: boolean
}

export interface PlanInput {
  readonly spec: RepoSpec
  /** The spec before this change (from disk), to know which components and images left. */
  readonly previous?: RepoSpec | undefined
  /** Image repositories whose pins go (default: those of `previous` the spec no longer uses). */
  readonly removedImages?: readonly string[] | undefined
  /** The spec file's parsed document, so its comments and key order survive re-rendering. */
  readonly specDocument?: Document | undefined
  /** The repo's current files. */
  readonly readText: ReadText
  /** component → digest to pin in every environment now (from --pin or a Snapshot). */
  readonly pins?: ReadonlyMap<string, string>
  /** env → (component → digest): per-environment pins, e.g. carried over when the repo changes shape. */
  readonly envPins?: ReadonlyMap<string, ReadonlyMap<string, string>>
  /** The rendered renovate.json (written only when the updater is Renovate). */
  readonly renovateConfig: string
}

/**
 * Pure: the spec and the current tree in, the files the repo should hold out. The flavour (kustomize, helm) and
 * the updater (renovate, dependabot) each contribute their files through a small planner (shape.ts).
 */
export function planFiles(input: PlanInput): DesiredFile[] {
  const { spec } = input
  const files: DesiredFile[] = [
    { path: SPEC_FILE, content: renderSpec(spec, input.specDocument), merged: true },
    { path: 'README.md', content: readme(spec), merged: false },
    ...updaterPlanner(spec).files(input),
  ]
  const removedImages =
    input.removedImages ??
    (input.previous?.components ?? [])
      .filter((old) => !spec.components.some((c) => c.image === old.image))
      .map((old) => old.image)
  files.push(...flavourPlanner(spec).files(input, removedImages))
  if (spec.ci === 'github') {
    files.push({
      path: '.github/workflows/validate.yaml',
      content: renderTemplate('github/validate.yaml', { branch: spec.branch, cliVersion: ownVersion() }),
      merged: false,
    })
  }
  if (spec.integrationTest) {
    // One pipeline for every shape: its deploy step runs `konflux-gitops render --build` (kustomize or helm).
    files.push(...integrationTestFiles(spec, { repoUrl: spec.repoURL ?? REPO_URL_PLACEHOLDER, revision: spec.branch }))
  }
  const renamedFrom = input.previous?.app
  if (renamedFrom === undefined || renamedFrom === spec.app) return files
  // Merged files keep the user's text, including the header comment naming the app: rename it there too.
  return files.map((file) =>
    file.merged && file.path !== SPEC_FILE
      ? { ...file, content: renameInHeader(file.content, renamedFrom, spec.app) }
      : file,
  )
}

/** Replace the old app name as a word in the leading comment lines only. */
function renameInHeader(text: string, from: string, to: string): string {
  const lines = text.split('\n')
  // An app name is a DNS label ([-a-z0-9]): nothing in it needs escaping. Not inside a longer word or image path.
  const word = new RegExp(`(?<![\\w.-])${from}(?![\\w-])(?!/\\w)`, 'g')
  for (let i = 0; i < lines.length && lines[i]!.startsWith('#'); i++) lines[i] = lines[i]!.replace(word, to)
  return lines.join('\n')
}

function readme(spec: RepoSpec): string {
  const updater = updaterPlanner(spec).displayName
  const componentList = spec.components.length
    ? spec.components
        .map((c) => `- \`${c.name}\`: \`${c.image}:${spec.tag}\`${c.port === undefined ? '' : `, port ${c.port}`}`)
        .join('\n')
    : '_None yet: add one with `npx konflux-gitops component add`._'
  const environmentList = spec.environments.length
    ? spec.environments
        .map((env) => {
          const auto = autoMergeOf(env)
          return `- \`${env.name}\`: namespace \`${namespaceOf(spec, env)}\`, ${auto ? `${updater} merges new digests on its own` : `a reviewer merges ${updater}\u2019s pull request`}${env.frozen ? ` (frozen by ${env.frozen.by})` : ''}`
        })
        .join('\n')
    : '_None yet: add one with `npx konflux-gitops env add`._'
  return renderTemplate('repo/README.md', {
    app: spec.app,
    tag: spec.tag,
    updater,
    componentList,
    environmentList,
    ...flavourPlanner(spec).readme(spec),
    updaterFiles: updaterPlanner(spec).readme(spec),
  })
}
