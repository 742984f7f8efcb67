import { z } from 'zod'
import { tryParseImageRef } from '../image-ref/index.js'

/** DNS-1123 label: what Kubernetes accepts as a namespace or Service name, and what we use for directories. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const SPEC_FILE = 'konflux-gitops.yaml'
export const SPEC_API_VERSION = 'konflux-gitops.dev/v1alpha1'
export const SPEC_KIND = 'GitOpsRepo'

const dnsLabel = (what: string) =>
  z
    .string()
    .max(63, `${what} must be at most 63 characters`)
    .regex(
      DNS_LABEL,
      `${what} must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit`,
    )

const imageRepository = z.string().refine((value) => {
  const ref = tryParseImageRef(value)
  return ref !== undefined && ref.tag === undefined && ref.digest === undefined
}, 'must be an image repository without tag or digest, e.g. quay.io/acme/shop/api')

export const componentSpec = z.strictObject({
  name: dnsLabel('component name'),
  image: imageRepository,
  port: z.number().int().min(1).max(65535).optional(),
})

export const freezeSpec = z.strictObject({
  by: z.string(),
  at: z.string(),
  reason: z.string().optional(),
})

export const environmentSpec = z.strictObject({
  name: dnsLabel('environment name'),
  namespace: dnsLabel('namespace').optional(),
  destinationServer: z.string().url().optional(),
  autoMerge: z.boolean().optional(),
  frozen: freezeSpec.optional(),
})

export const flavours = ['kustomize', 'helm'] as const
export const updaters = ['renovate', 'dependabot'] as const
export const argocdModes = ['applicationset', 'applications', 'none'] as const
export const ciModes = ['github', 'none'] as const

export const repoSpec = z.strictObject({
  apiVersion: z.literal(SPEC_API_VERSION),
  kind: z.literal(SPEC_KIND),
  app: dnsLabel('app name'),
  tag: z
    .string()
    .regex(/^[\w][\w.-]{0,127}$/, 'tag must be a valid image tag such as "released"')
    .default('released'),
  flavour: z.enum(flavours).default('kustomize'),
  updater: z.enum(updaters).default('renovate'),
  argocd: z.enum(argocdModes).default('applicationset'),
  destinationServer: z.string().url().default('https://kubernetes.default.svc'),
  renovatePreset: z.string().optional(),
  /** Who runs Renovate: the hosted app (absent/none) or a workflow in this repo (issue 11, `init --renovate-runner`). */
  renovateRunner: z.enum(['none', 'github-actions']).optional(),
  /** Git URL Argo CD reads this repo from (no credentials); set by init from --git-remote or --github. */
  repoURL: z.string().min(1).optional(),
  /** Branch Argo CD follows and init pushes. */
  branch: z
    .string()
    .regex(/^(?!-)(?!.*\.\.)[\w./-]+$/, 'branch must be a git branch name such as "main"')
    .default('main'),
  ci: z.enum(ciModes).default('github'),
  /** Image repository prefixes validate accepts; empty means "the components' own repositories". */
  allowedRegistries: z.array(z.string()).optional(),
  /** Allow `newTag: released` without a digest (Renovate pins on its first run). */
  allowUnpinned: z.boolean().default(true),
  components: z.array(componentSpec).default([]),
  environments: z.array(environmentSpec).default([]),
  /**
   * Signature checks (src/verify): public keys (PEM text itself, as `init --verify-key` records it, or a
   * repo-relative PEM file; several for rotation) every pinned digest must be signed by: validate
   * --against-registry, doctor and render use them.
   */
  verify: z
    .strictObject({
      keys: z.array(z.string().min(1)).min(1, 'verify.keys needs at least one public key file'),
      /** Also require SLSA provenance from this builder (e.g. https://tekton.dev/chains/v2). */
      builderId: z.string().min(1).optional(),
    })
    .optional(),
  /** Ephemeral-environment integration test (integration/, issue 8): written while present. */
  integrationTest: z
    .strictObject({
      /** The environment (overlay or Helm values) a Snapshot is deployed on top of; default stage, else the first. */
      env: dnsLabel('integrationTest.env').optional(),
      /** Name of the IntegrationTestScenario and its Pipeline; default <app>-deploy-and-test. */
      name: dnsLabel('integrationTest.name').optional(),
      /** The Konflux ComponentGroup the scenario tests (ComponentGroup model); default: the application `app`. */
      componentGroup: dnsLabel('integrationTest.componentGroup').optional(),
    })
    .optional(),
})

export type ComponentSpec = z.infer<typeof componentSpec>
export type EnvironmentSpec = z.infer<typeof environmentSpec>
export type RepoSpec = z.infer<typeof repoSpec>
export type RepoSpecInput = z.input<typeof repoSpec>

/** The namespace an environment deploys to: explicit, or `<app>-<env>`. */
export function namespaceOf(spec: Pick<RepoSpec, 'app'>, env: EnvironmentSpec): string {
  return env.namespace ?? `${spec.app}-${env.name}`
}

/** Auto-merge default: dev-like environments merge on their own, prod never unless said. */
export function autoMergeOf(env: EnvironmentSpec): boolean {
  return env.autoMerge ?? env.name === 'dev'
}
