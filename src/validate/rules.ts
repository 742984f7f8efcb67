export type Severity = 'error' | 'warning' | 'note'

export interface Rule {
  id: string
  severity: Severity
  /** What the rule checks, one line (README and SARIF rule descriptions). */
  summary: string
  /** What to do when it fires, one line. */
  hint: string
}

/** Every check validate runs, as data: the README table, --rule/--skip-rule and SARIF's rule list come from here. */
export const RULES = [
  // Files that cannot be read as text
  {
    id: 'file-unreadable',
    severity: 'error',
    summary: 'A YAML/JSON file is binary, not UTF-8, too large (over 4 MiB) or cannot be read',
    hint: 'Keep only UTF-8 text manifests under 4 MiB in the repo; move generated or binary files elsewhere.',
  },
  {
    id: 'symlink-outside',
    severity: 'error',
    summary: 'A symbolic link points outside the repository',
    hint: 'Replace the link with the file itself: Argo CD and kustomize do not follow links out of the repo.',
  },
  // YAML
  {
    id: 'yaml-syntax',
    severity: 'error',
    summary: 'YAML (or JSON) syntax error, with line and column',
    hint: 'Fix the syntax at the line shown; `yamllint` or an editor with YAML support shows the same spot.',
  },
  {
    id: 'yaml-duplicate-key',
    severity: 'error',
    summary: 'A mapping repeats a key (tools disagree which one wins)',
    hint: 'Remove or merge the repeated key so each key appears once.',
  },
  {
    id: 'yaml-alias-limit',
    severity: 'error',
    summary: 'A YAML document expands too many aliases (a "billion laughs" alias bomb)',
    hint: 'Write the values out instead of nesting aliases; 100 alias expansions per document is the limit.',
  },
  // Layout
  {
    id: 'spec-missing',
    severity: 'error',
    summary: 'konflux-gitops.yaml is missing at the repository root',
    hint: 'Run `npx konflux-gitops init` in the repository, or validate the right directory.',
  },
  {
    id: 'spec-invalid',
    severity: 'error',
    summary: 'konflux-gitops.yaml does not match its schema',
    hint: 'Fix the field named in the message; `npx konflux-gitops init --help` lists the accepted values.',
  },
  {
    id: 'component-base-missing',
    severity: 'error',
    summary: 'A component of the spec has no components/<c>/base/kustomization.yaml',
    hint: 'Run `npx konflux-gitops init` to regenerate the base, or remove the component from the spec.',
  },
  {
    id: 'environment-missing',
    severity: 'error',
    summary: 'An environment of the spec has no environments/<env>/kustomization.yaml',
    hint: 'Run `npx konflux-gitops init` to regenerate the overlay, or remove the environment from the spec.',
  },
  {
    id: 'stray-overlay',
    severity: 'warning',
    summary: 'A directory under environments/ or components/ is not in the spec',
    hint: 'Add it to konflux-gitops.yaml (`env add` / `component add`) or delete the directory.',
  },
  {
    id: 'argocd-path-missing',
    severity: 'error',
    summary: 'An Argo CD Application or ApplicationSet points at a path that does not exist',
    hint: 'Point source.path (or the git generator directories) at an existing environments/<env> directory.',
  },
  // Kustomize
  {
    id: 'kustomization-invalid',
    severity: 'error',
    summary: 'A kustomization.yaml field has the wrong shape',
    hint: 'resources/components must be lists of paths; images must be a list of {name, newName?, newTag?, digest?}.',
  },
  {
    id: 'kustomize-path-missing',
    severity: 'error',
    summary: 'A kustomization resources/components/patches path does not exist',
    hint: 'Fix the relative path or restore the missing file or directory.',
  },
  {
    id: 'kustomize-cycle',
    severity: 'error',
    summary: 'Kustomizations include each other in a cycle',
    hint: 'Remove one of the references in the cycle shown; an overlay should only include bases.',
  },
  {
    id: 'kustomize-image-missing',
    severity: 'error',
    summary:
      'An environment has no pin for a component it deploys: no images: entry, no Helm values entry, or (Dependabot) its overlay no longer patches the component',
    hint: 'Add `images: [{name: <component image>, newTag: released}]` to the overlay (init writes it).',
  },
  {
    id: 'image-tag-and-digest',
    severity: 'error',
    summary:
      'A pin sets a separate digest beside its tag (kustomize newTag + digest; Helm tag + digest:), which no updater reads',
    hint: 'Write one field instead: `newTag: <tag>@sha256:<digest>`.',
  },
  {
    id: 'image-digest-format',
    severity: 'error',
    summary: 'A digest is not sha256:<64 lowercase hex>',
    hint: 'Copy the digest from the registry (`skopeo inspect`), e.g. sha256: followed by 64 hex characters.',
  },
  // Image policy
  {
    id: 'image-latest',
    severity: 'error',
    summary: 'An image reference uses the tag latest',
    hint: 'Use the configured release tag (e.g. `released`) pinned by digest.',
  },
  {
    id: 'image-untagged',
    severity: 'error',
    summary: 'An image reference has neither tag nor digest',
    hint: 'Set `newTag: <tag>` (or `<tag>@sha256:<digest>`) in the environment overlay.',
  },
  {
    id: 'image-tag-policy',
    severity: 'error',
    summary: 'An image uses a tag other than the configured one',
    hint: 'Reference the tag set in konflux-gitops.yaml (`tag:`), which Konflux moves when a Snapshot passes.',
  },
  {
    id: 'image-unpinned',
    severity: 'error',
    summary: 'An image is not pinned by digest while the spec sets allowUnpinned: false',
    hint: 'Write `newTag: <tag>@sha256:<digest>` (`init --pin` resolves it), or let Renovate pin it.',
  },
  {
    id: 'image-registry-not-allowed',
    severity: 'error',
    summary: 'An image is outside the allowed registry prefixes',
    hint: 'Use an image under the allowed prefixes, or add its prefix to allowedRegistries in konflux-gitops.yaml.',
  },
  // Schemas
  {
    id: 'k8s-schema',
    severity: 'error',
    summary: 'A Kubernetes object does not match its API schema (kubernetes-models)',
    hint: 'Fix the field named in the message; `kubectl explain <kind>.<field>` documents it.',
  },
  {
    id: 'argocd-schema',
    severity: 'error',
    summary: 'An Argo CD Application/ApplicationSet/AppProject does not match its schema',
    hint: 'Fix the field named in the message; see the Argo CD declarative setup documentation.',
  },
  // Renovate
  {
    id: 'renovate-config-missing',
    severity: 'warning',
    summary: 'The spec uses Renovate but no Renovate config file exists',
    hint: 'Add renovate.json (init writes one) so image digests are pinned and bumped by pull request.',
  },
  {
    id: 'renovate-config-invalid',
    severity: 'error',
    summary: "Renovate's own validator or its JSON schema rejects the config",
    hint: 'Fix the option named in the message; `npx renovate-config-validator --strict` shows the same.',
  },
  {
    id: 'renovate-config-warning',
    severity: 'warning',
    summary: 'Renovate would warn about the config, or it needs migration',
    hint: 'Apply the change the message names; `npx renovate-config-validator --strict` shows the migrated form.',
  },
  {
    id: 'renovate-not-installed',
    severity: 'note',
    summary:
      "renovate is not installed next to konflux-gitops: the config was checked against the shipped schema only, without Renovate's validator, migration and preset checks",
    hint: 'Install renovate next to konflux-gitops (the message says how) to run every Renovate check.',
  },
  {
    id: 'renovate-preset-unresolved',
    severity: 'note',
    summary: 'An extends preset cannot be resolved offline, so it was not checked',
    hint: 'Nothing to do if the preset exists; it is fetched when Renovate runs.',
  },
  {
    id: 'renovate-digest-pinning',
    severity: 'error',
    summary: 'The Renovate config does not pin image digests',
    hint: 'Extend "docker:pinDigests" (or set pinDigests: true) so `newTag: <tag>` becomes `<tag>@sha256:…`.',
  },
  // Helm (flavour: helm)
  {
    id: 'helm-values-invalid',
    severity: 'error',
    summary:
      "An environment's values.yaml does not have the shape the chart reads: components.<c>.image.{repository, tag}",
    hint: 'Write components: {<component>: {image: {repository: <image>, tag: "<tag>@sha256:<digest>"}}} (init writes it).',
  },
  {
    id: 'helm-component-unknown',
    severity: 'error',
    summary: 'A key under components: in a values file is not a component of the spec (the chart deploys it anyway)',
    hint: 'Add the component to konflux-gitops.yaml (`component add`), or delete the key from the values file.',
  },
  {
    id: 'helm-values-ignored',
    severity: 'error',
    summary:
      'A values file in an environment folder that the chart never reads (Argo CD passes only environments/<env>/values.yaml)',
    hint: 'Move its settings into environments/<env>/values.yaml and delete the file.',
  },
  // Optional checks
  // Dependabot (updater: dependabot)
  {
    id: 'image-patch-unreferenced',
    severity: 'error',
    summary:
      'An images/<component>.yaml patch that no kustomization lists under patches: (Dependabot moves a pin nothing deploys)',
    hint: 'List it under patches: in the environment kustomization (`- path: images/<component>.yaml`), or delete it.',
  },
  {
    id: 'dependabot-pin-invisible',
    severity: 'error',
    summary:
      'A pin Dependabot cannot see: its directory is not listed in .github/dependabot.yml, the image: is quoted, or it sits under another key (kustomize images:)',
    hint: 'Run `npx konflux-gitops init` to regenerate .github/dependabot.yml and the pins, or apply the fix in the message.',
  },
  {
    id: 'kustomize-build',
    severity: 'error',
    summary:
      '`kustomize build` of an environment overlay fails (--build); on a Helm repo, `helm template` of the chart with its values',
    hint: 'Run `kubectl kustomize environments/<env>` (Helm: `helm template <app> charts/<app> -f environments/<env>/values.yaml`) locally and fix the error it prints.',
  },
  {
    id: 'image-drift',
    severity: 'warning',
    summary: 'A pinned digest is no longer what its tag points to in the registry (--against-registry)',
    hint: 'Merge the pending Renovate pull request, or pin the digest the registry now reports for the tag.',
  },
  {
    id: 'image-unsigned',
    severity: 'error',
    summary:
      'A pinned digest is not signed by any verify key (--against-registry with --verify-key or verify.keys in konflux-gitops.yaml)',
    hint: 'Pin only digests Konflux built and signed (Tekton Chains); check the key is the Chains public key. Keyless signatures are not verified.',
  },
  {
    id: 'registry-lookup-failed',
    severity: 'warning',
    summary: 'The registry could not be asked what a pinned tag points to (--against-registry)',
    hint: 'Check network access and credentials (docker login / DOCKER_CONFIG) for the registry named.',
  },
  // Freeze (issue 12)
  {
    id: 'environment-frozen',
    severity: 'note',
    summary: 'An environment is frozen (konflux-gitops freeze): the updater leaves it alone',
    hint: 'Lift it with `npx konflux-gitops unfreeze --env <env>` once the environment may move again.',
  },
  {
    id: 'freeze-mismatch',
    severity: 'error',
    summary:
      'konflux-gitops.yaml and the updater config (Renovate or Dependabot) disagree about which environments are frozen',
    hint: 'Run `npx konflux-gitops freeze --env <env>` (or unfreeze) again: it writes both so they agree.',
  },
] as const satisfies readonly Rule[]

export type RuleId = (typeof RULES)[number]['id']

export const RULE_IDS: readonly RuleId[] = RULES.map((r) => r.id)

const byId = new Map<string, Rule>(RULES.map((r) => [r.id, r]))

export function ruleById(id: string): Rule | undefined {
  return byId.get(id)
}

export interface Finding {
  rule: RuleId
  severity: Severity
  /** Path relative to the repository root, with forward slashes. */
  file: string
  line: number | null
  column: number | null
  message: string
  hint: string
}

export const SEVERITY_RANK: Record<Severity, number> = { note: 0, warning: 1, error: 2 }
