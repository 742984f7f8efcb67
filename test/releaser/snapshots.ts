/** A Konflux Snapshot that passes the release gate, as JSON text, for webhook tests. */
export function snapshotBody(
  name: string,
  createdAt: string,
  components: Array<{ name: string; image: string }>,
  options: { application?: string; namespace?: string } = {},
): string {
  return JSON.stringify({
    apiVersion: 'appstudio.redhat.com/v1alpha1',
    kind: 'Snapshot',
    metadata: {
      name,
      namespace: options.namespace ?? 'acme-tenant',
      creationTimestamp: createdAt,
      labels: {
        'test.appstudio.openshift.io/type': 'component',
        'pac.test.appstudio.openshift.io/event-type': 'push',
      },
    },
    spec: {
      application: options.application ?? 'shop',
      components: components.map((component) => ({
        name: component.name,
        containerImage: component.image,
        source: { git: { url: `https://github.com/acme/${component.name}`, revision: '0'.repeat(40) } },
      })),
    },
    status: { conditions: [{ type: 'AppStudioTestSucceeded', status: 'True', reason: 'Passed' }] },
  })
}
