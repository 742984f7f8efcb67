import { readFile } from 'node:fs/promises'
import { isMap, parseDocument } from 'yaml'
import { UsageError } from '../cli/errors.js'
import { parseSnapshot, type Snapshot } from '../snapshot/index.js'

/**
 * Where a Snapshot comes from: a file, `-` for stdin, or the JSON text itself. Konflux hands an integration pipeline
 * its `SNAPSHOT` parameter as JSON text, so `--snapshot "$SNAPSHOT"` has to work without a temporary file.
 */
export async function readSnapshotInput(value: string, readStdin: () => Promise<string>): Promise<Snapshot> {
  if (value === '-') return parseSnapshotText(await readStdin(), 'stdin')
  if (value.trimStart().startsWith('{')) return parseSnapshotText(value, '--snapshot')
  let text: string
  try {
    text = await readFile(value, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read Snapshot file ${value}: ${code === 'ENOENT' ? 'no such file' : code}`, {
      code: 'invalid-snapshot',
      hint: 'Pass a Snapshot file (kubectl get snapshot NAME -o yaml > snapshot.yaml), - for stdin, or its JSON.',
    })
  }
  return parseSnapshotText(text, value)
}

/**
 * A full Snapshot object, or only its spec (`{application, components}`) as integration-service passes it to
 * test pipelines. The spec form is wrapped into an object so one parser checks both.
 */
export function parseSnapshotText(text: string, source: string): Snapshot {
  const doc = parseDocument(text)
  if (doc.errors.length === 0 && isMap(doc.contents) && !doc.has('kind') && doc.has('components')) {
    const spec = doc.toJS() as Record<string, unknown>
    const wrapped = {
      apiVersion: 'appstudio.redhat.com/v1alpha1',
      kind: 'Snapshot',
      metadata: { name: typeof spec.application === 'string' ? `${spec.application}-snapshot` : 'snapshot' },
      spec: { application: spec.application ?? '', ...spec },
    }
    return parseSnapshot(JSON.stringify(wrapped), source)
  }
  return parseSnapshot(text, source)
}
