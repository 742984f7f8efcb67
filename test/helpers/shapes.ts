/** The four repo shapes every command and rule must work on, as `[flavour, updater]` for `it.each`. */
export const SHAPES = [
  ['kustomize', 'renovate'],
  ['kustomize', 'dependabot'],
  ['helm', 'renovate'],
  ['helm', 'dependabot'],
] as const
