import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Document, isMap, parseDocument } from 'yaml'
import type { z } from 'zod'
import { UsageError, UserError } from '../cli/errors.js'
import { type RepoSpec, type RepoSpecInput, repoSpec, SPEC_FILE } from './model.js'

/** Turn zod issues into one line per field, naming the file and the path inside it. */
export function describeIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
      return `${file}: ${where}: ${issue.message}`
    })
    .join('\n')
}

/** Parse the text of a spec file; errors name the file, line and field. */
export function parseSpec(text: string, file = SPEC_FILE): { spec: RepoSpec; document: Document } {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (document.errors.length > 0) {
    const first = document.errors[0]
    const pos = first?.linePos?.[0]
    throw new UsageError(
      `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first?.message.split('\n')[0] ?? 'invalid YAML'}`,
      {
        code: 'invalid-spec',
        hint: `Fix the YAML syntax in ${file}.`,
      },
    )
  }
  const result = repoSpec.safeParse(document.toJS({ maxAliasCount: 100 }))
  if (!result.success) {
    throw new UsageError(describeIssues(file, result.error), {
      code: 'invalid-spec',
      hint: `Edit ${file} so each field named above is valid, or re-run init.`,
    })
  }
  return { spec: result.data, document }
}

/** Read `konflux-gitops.yaml` from a repo directory, or undefined when absent. */
export async function readSpec(dir: string): Promise<{ spec: RepoSpec; document: Document; text: string } | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, SPEC_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UserError(`cannot read ${join(dir, SPEC_FILE)}: ${(error as Error).message}`)
  }
  return { ...parseSpec(text), text }
}

/**
 * Render a spec to YAML. When the previous document is given, values are written into it so the
 * user's comments and key order survive.
 */
export function renderSpec(spec: RepoSpecInput, previous?: Document): string {
  const validated = repoSpec.parse(spec)
  if (previous && isMap(previous.contents)) {
    const doc = previous.clone()
    const current = doc.toJS() as Record<string, unknown>
    for (const [key, value] of Object.entries(validated)) {
      if (value === undefined) doc.delete(key)
      else if (JSON.stringify(current[key]) !== JSON.stringify(value)) doc.set(key, doc.createNode(value))
    }
    for (const key of Object.keys(current)) {
      if (!(key in validated)) doc.delete(key)
    }
    return doc.toString({ lineWidth: 0 })
  }
  const doc = new Document(validated)
  doc.commentBefore =
    ' konflux-gitops: the source of truth for this repository. Edit it, then run `npx konflux-gitops init` to reconcile.'
  return doc.toString({ lineWidth: 0 })
}
