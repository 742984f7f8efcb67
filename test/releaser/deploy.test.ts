import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { kubeTools } from '../harness/kube-tools.js'
import { ROOT } from '../helpers/cli.js'

const run = promisify(execFile)

/** The parts of the releaser Deployment these tests read. */
interface DeploymentShape {
  spec: {
    template: {
      metadata: { labels: Record<string, string> }
      spec: {
        terminationGracePeriodSeconds: number
        containers: {
          image: string
          args: string[]
          env: { name: string; value: string }[]
          ports: { name: string }[]
          volumeMounts: { name: string; mountPath: string }[]
          livenessProbe: { httpGet: { path: string } }
          readinessProbe: { httpGet: { path: string } }
          resources: { limits: Record<string, string> }
          securityContext: Record<string, unknown>
        }[]
        volumes: {
          name: string
          secret?: { secretName: string; items?: { key: string; path: string }[] }
          persistentVolumeClaim?: { claimName: string }
        }[]
      }
    }
  }
}

interface Rule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
}
type K8sObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string }
  [k: string]: unknown
}

/** kubernetes-models ships one validating class per kind; the deploy/ manifests must pass the API schemas. */
async function schemaProblems(object: K8sObject): Promise<string[]> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion]
  const module = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`)) as Record<
    string,
    new (
      data: unknown,
    ) => { validate(): void }
  >
  try {
    new module[object.kind]!(object).validate()
    return []
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors ?? []
    return errors.map((e) => `${object.kind}/${object.metadata.name}${e.instancePath}: ${e.message}`)
  }
}

describe('deploy/ (kustomize manifests and Containerfile)', () => {
  let objects: K8sObject[]
  beforeAll(async () => {
    const { kubectl } = await kubeTools()
    const { stdout } = await run(kubectl, ['kustomize', join(ROOT, 'deploy')])
    objects = parseAllDocuments(stdout).map((doc) => doc.toJS() as K8sObject)
  })

  const find = (kind: string, name?: string) =>
    objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))

  it('builds with kustomize into objects that pass the Kubernetes schemas', async () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Namespace',
      'PersistentVolumeClaim',
      'Role',
      'RoleBinding',
      'Secret',
      'Secret',
      'Service',
      'ServiceAccount',
    ])
    const problems = (await Promise.all(objects.map(schemaProblems))).flat()
    expect(problems).toEqual([])
  })

  it('runs the releaser with flags it has, probes it serves, and the Secrets and volume it needs', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, unknown> }>
    }
    const deployment = find('Deployment', 'releaser') as unknown as DeploymentShape
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]!
    expect(container.image).toBe('quay.io/konflux-gitops/konflux-gitops:latest')
    expect(container.args[0]).toBe('releaser')
    for (const arg of container.args.slice(1)) {
      const flag = /^--([a-z-]+)=/.exec(arg)?.[1]
      expect(flag && manifest.commands.releaser!.flags[flag], `${arg} is a releaser flag`).toBeTruthy()
    }
    expect(container.livenessProbe.httpGet.path).toBe('/healthz')
    expect(container.readinessProbe.httpGet.path).toBe('/readyz')
    expect(container.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })
    // Every mount has a volume, every secret volume names a Secret the kustomization ships, the state is a PVC.
    const volumes = new Map(pod.volumes.map((v) => [v.name, v]))
    for (const mount of container.volumeMounts) expect(volumes.has(mount.name), mount.name).toBe(true)
    for (const volume of volumes.values()) {
      if (volume.secret) expect(find('Secret', volume.secret.secretName), volume.secret.secretName).toBeDefined()
      if (volume.persistentVolumeClaim)
        expect(find('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName)).toBeDefined()
    }
    const secretFile = container.args.find((a) => a.startsWith('--webhook-secret-file='))!.split('=')[1]!
    const secretMount = container.volumeMounts.find((m) => secretFile.startsWith(`${m.mountPath}/`))!
    const webhookSecret = find('Secret', volumes.get(secretMount.name)!.secret!.secretName) as { stringData?: object }
    expect(Object.keys(webhookSecret.stringData ?? {})).toContain(secretFile.slice(secretMount.mountPath.length + 1))
    const dockerConfig = container.env.find((e) => e.name === 'DOCKER_CONFIG')!.value
    const authMount = container.volumeMounts.find((m) => m.mountPath === dockerConfig)!
    expect(volumes.get(authMount.name)!.secret!.items).toEqual([{ key: '.dockerconfigjson', path: 'config.json' }])
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(20)

    const service = find('Service', 'releaser') as unknown as {
      spec: { ports: { targetPort: string }[]; selector: Record<string, string> }
    }
    expect(service.spec.ports[0]!.targetPort).toBe(container.ports[0]!.name)
    for (const [key, value] of Object.entries(service.spec.selector)) {
      expect(deployment.spec.template.metadata.labels[key]).toBe(value)
    }
  })

  it('grants watch on Snapshots and ReleasePlans and the Lease verbs leader election uses, no more', () => {
    const clusterRole = find('ClusterRole') as unknown as { rules: Rule[] }
    expect(clusterRole.rules).toEqual([
      {
        apiGroups: ['appstudio.redhat.com'],
        resources: ['snapshots', 'releaseplans'],
        verbs: ['get', 'list', 'watch'],
      },
    ])
    const role = find('Role') as unknown as { rules: Rule[] }
    expect(role.rules[0]).toMatchObject({ apiGroups: ['coordination.k8s.io'], resources: ['leases'] })
    expect(role.rules[0]!.verbs).toEqual(expect.arrayContaining(['get', 'create', 'update']))
    const binding = find('ClusterRoleBinding') as unknown as { subjects: object[] }
    expect(binding.subjects[0]).toMatchObject({
      kind: 'ServiceAccount',
      name: 'releaser',
      namespace: 'konflux-gitops-releaser',
    })
  })
})

describe('deploy/replicas (3 replicas on one PostgreSQL journal)', () => {
  let objects: K8sObject[]
  beforeAll(async () => {
    const { kubectl } = await kubeTools()
    const { stdout } = await run(kubectl, ['kustomize', join(ROOT, 'deploy', 'replicas')])
    objects = parseAllDocuments(stdout).map((doc) => doc.toJS() as K8sObject)
  })
  const find = (kind: string, name?: string) =>
    objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))

  it('builds into the base objects (no volume) plus a PDB, a NetworkPolicy and a ServiceMonitor, all valid', async () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Secret',
      'Secret',
      'Secret',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ])
    // ServiceMonitor is the Prometheus Operator's CRD, not in the Kubernetes schemas: its shape is checked below.
    const problems = (await Promise.all(objects.filter((o) => o.kind !== 'ServiceMonitor').map(schemaProblems))).flat()
    expect(problems).toEqual([])
    for (const object of objects) expect(object.metadata.namespace ?? 'cluster').not.toBe('default')
  })

  it('runs 3 replicas with the database URL from a Secret, spread, rolled, disrupted one at a time, reachable only on the webhook/metrics port', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, unknown> }>
    }
    const deployment = find('Deployment', 'releaser') as unknown as DeploymentShape & {
      spec: { replicas: number; strategy: { type: string } }
    }
    expect(deployment.spec.replicas).toBe(3)
    expect(deployment.spec.strategy.type).toBe('RollingUpdate')
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]!
    for (const arg of container.args.slice(1)) {
      const flag = /^--([a-z-]+)=/.exec(arg)?.[1]
      expect(flag && manifest.commands.releaser!.flags[flag], `${arg} is a releaser flag`).toBeTruthy()
    }
    expect(container.args.some((a) => a.startsWith('--state'))).toBe(false)
    expect(pod.volumes.some((v) => v.persistentVolumeClaim)).toBe(false)
    expect(find('PersistentVolumeClaim')).toBeUndefined()
    const url = (
      container.env as unknown as { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]
    ).find((e) => e.name === 'KONFLUX_GITOPS_DATABASE_URL')!
    const secret = find('Secret', url.valueFrom!.secretKeyRef.name) as unknown as { stringData: Record<string, string> }
    expect(secret.stringData[url.valueFrom!.secretKeyRef.key]).toMatch(/^postgres:\/\//)

    const labels = deployment.spec.template.metadata.labels
    const pdb = find('PodDisruptionBudget') as unknown as {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } }
    }
    expect(pdb.spec.minAvailable).toBeGreaterThan(0)
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas)
    for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) expect(labels[key]).toBe(value)

    const policy = find('NetworkPolicy') as unknown as {
      spec: {
        podSelector: { matchLabels: Record<string, string> }
        policyTypes: string[]
        ingress: { from?: unknown; ports: { port: number; protocol: string }[] }[]
      }
    }
    for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) expect(labels[key]).toBe(value)
    expect(policy.spec.policyTypes).toContain('Ingress')
    const listen = Number(
      container.args
        .find((a) => a.startsWith('--listen='))!
        .split(':')
        .at(-1),
    )
    expect(policy.spec.ingress.flatMap((rule) => rule.ports)).toEqual([{ protocol: 'TCP', port: listen }])

    const service = find('Service', 'releaser') as unknown as {
      metadata: { labels: Record<string, string> }
      spec: { ports: { name: string }[] }
    }
    const monitor = find('ServiceMonitor') as unknown as {
      apiVersion: string
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] }
    }
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1')
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
      expect(service.metadata.labels[key]).toBe(value)
    }
    expect(monitor.spec.endpoints).toEqual([{ port: service.spec.ports[0]!.name, path: '/metrics', interval: '30s' }])
  })
})
