export { describeIssues, parseSpec, readSpec, renderSpec } from './io.js'
export {
  argocdModes,
  autoMergeOf,
  type ComponentSpec,
  ciModes,
  DNS_LABEL,
  type EnvironmentSpec,
  flavours,
  namespaceOf,
  type RepoSpec,
  type RepoSpecInput,
  repoSpec,
  SPEC_API_VERSION,
  SPEC_FILE,
  SPEC_KIND,
  updaters,
} from './model.js'
