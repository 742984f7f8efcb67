import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Application, ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Service } from 'kubernetes-models/v1'
import { parseAllDocuments } from 'yaml'
import { kustomizeBuild } from '../harness/kube-tools.js'

const run = promisify(execFile)

/** Kubernetes objects and --json documents as tests read them: arbitrary nested data. */
// biome-ignore lint/suspicious/noExplicitAny: tests walk arbitrary YAML/JSON and let expect() check the shape
export type Loose = any

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', dir, ...args])
  return stdout.trim()
}

export async function commitCount(dir: string): Promise<number> {
  return Number(await git(dir, 'rev-list', '--count', 'HEAD'))
}

export async function read(dir: string, path: string): Promise<string> {
  return readFile(join(dir, path), 'utf8')
}

/** Every Kubernetes object validated against its schema from kubernetes-models; throws on the first invalid one. */
export function validateKubernetesObjects(stream: string): { kind: string; name: string; object: Loose }[] {
  const objects = parseAllDocuments(stream)
    .map((doc) => (doc as Loose).toJS())
    .filter(Boolean)
  return objects.map((object) => {
    if (object.kind === 'Deployment') new Deployment(object).validate()
    else if (object.kind === 'Service') new Service(object).validate()
    else throw new Error(`unexpected kind ${object.kind} in kustomize output`)
    return { kind: object.kind, name: object.metadata.name, object }
  })
}

export function validateArgoObject(text: string): Loose {
  const object = parseAllDocuments(text)[0]!.toJS() as Loose
  if (object.kind === 'ApplicationSet') new ApplicationSet(object).validate()
  else if (object.kind === 'Application') new Application(object).validate()
  else throw new Error(`unexpected kind ${object.kind} in argocd/`)
  return object
}

/** `kubectl kustomize environments/<env>` and schema-check what it builds. */
export async function buildEnvironment(dir: string, env: string) {
  const stream = await kustomizeBuild(join(dir, 'environments', env))
  return { stream, objects: validateKubernetesObjects(stream) }
}
