import { stringify } from 'yaml'

export interface FixtureComponent {
  name: string
  containerImage: string
  revision?: string
}

/** A Konflux Snapshot as integration-service leaves it, for images in a test registry. */
export function snapshotYaml(
  components: FixtureComponent[],
  options: { passed?: boolean; event?: string; name?: string } = {},
): string {
  return stringify({
    apiVersion: 'appstudio.redhat.com/v1alpha1',
    kind: 'Snapshot',
    metadata: {
      name: options.name ?? 'shop-20261124-091500-123',
      namespace: 'acme-tenant',
      creationTimestamp: '2026-11-24T09:15:00Z',
      labels: {
        'test.appstudio.openshift.io/type': 'component',
        'appstudio.openshift.io/application': 'shop',
        'pac.test.appstudio.openshift.io/event-type': options.event ?? 'push',
      },
    },
    spec: {
      application: 'shop',
      components: components.map((c) => ({
        name: c.name,
        containerImage: c.containerImage,
        source: {
          git: {
            url: `https://github.com/acme/${c.name}`,
            revision: c.revision ?? '4f2a9c0d1e3b5a7968f0c1d2e3f4a5b6c7d8e9f0',
          },
        },
      })),
    },
    status: {
      conditions: [
        { type: 'AppStudioTestSucceeded', status: options.passed === false ? 'False' : 'True', reason: 'Passed' },
      ],
    },
  })
}
