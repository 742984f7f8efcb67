import { type RepoSpec, repoSpec } from '../../src/spec/index.js'

/** The "shop" repo most unit tests plan against: api, web (port 8080), environments dev and prod. */
export const SHOP_SPEC_INPUT = {
  apiVersion: 'konflux-gitops.dev/v1alpha1',
  kind: 'GitOpsRepo',
  app: 'shop',
  components: [
    { name: 'api', image: 'quay.io/acme/shop/api' },
    { name: 'web', image: 'quay.io/acme/shop/web', port: 8080 },
  ],
  environments: [{ name: 'dev' }, { name: 'prod' }],
}

/** `init` flags that write the same "shop" app (its environments are init's defaults). */
export const SHOP_INIT_ARGS = [
  '--app',
  'shop',
  '--component',
  'api=quay.io/acme/shop/api',
  '--component',
  'web=quay.io/acme/shop/web:8080',
]

export function shopSpec(overrides: Record<string, unknown> = {}): RepoSpec {
  return repoSpec.parse({ ...SHOP_SPEC_INPUT, ...overrides })
}
