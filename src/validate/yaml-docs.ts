import { type Document, isMap, isNode, isScalar, LineCounter, parseAllDocuments, type YAMLError } from 'yaml'

/** Alias expansions allowed per document: enough for real manifests, far too few for an alias bomb. */
export const MAX_ALIAS_COUNT = 100

export interface ParsedDoc {
  document: Document.Parsed
  /** The plain JS value, or undefined when the document could not be converted (syntax error, alias bomb). */
  value: unknown
}

export interface Position {
  line: number | null
  column: number | null
}

export type YamlProblem = {
  rule: 'yaml-syntax' | 'yaml-duplicate-key' | 'yaml-alias-limit'
  message: string
} & Position

export interface ParsedFile {
  path: string
  docs: ParsedDoc[]
  lineCounter: LineCounter
  problems: YamlProblem[]
}

function problemOf(error: YAMLError, text: string): YamlProblem {
  const pos = error.linePos?.[0]
  let message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '')
  if (error.code === 'DUPLICATE_KEY') {
    // yaml points at the repeated key's first character; name the key so the message stands on its own.
    const rest = text.slice(error.pos[0]).split('\n', 1)[0] ?? ''
    const key = /^("[^"]*"|'[^']*'|[^:#\n]+?)\s*:/.exec(rest)?.[1]
    if (key)
      message = `key ${key.startsWith('"') || key.startsWith("'") ? key : `"${key}"`} appears twice in one mapping`
  }
  return {
    rule: error.code === 'DUPLICATE_KEY' ? 'yaml-duplicate-key' : 'yaml-syntax',
    message,
    line: pos?.line ?? null,
    column: pos?.col ?? null,
  }
}

/** Parse every document of a YAML (or JSON) file once, keeping positions for findings. */
export function parseYaml(path: string, text: string): ParsedFile {
  const lineCounter = new LineCounter()
  const problems: YamlProblem[] = []
  const docs: ParsedDoc[] = []
  // logLevel error: yaml would otherwise print Node warnings (e.g. collection keys) onto the user's stderr.
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true, logLevel: 'error' })
  // parseAllDocuments returns an EmptyStream (an array with `empty`) for empty input.
  const list = Array.isArray(parsed) ? parsed : [parsed]
  for (const document of list) {
    const errors = document.errors
    for (const error of errors) problems.push(problemOf(error, text))
    let value: unknown
    if (errors.length === 0) {
      try {
        value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
      } catch (error) {
        const pos = isNode(document.contents) ? positionOf(lineCounter, document.contents.range?.[0]) : null
        const message = (error as Error).message
        problems.push({
          rule: /alias/i.test(message) ? 'yaml-alias-limit' : 'yaml-syntax',
          message,
          line: pos?.line ?? null,
          column: pos?.column ?? null,
        })
      }
    }
    docs.push({ document, value })
  }
  return { path, docs, lineCounter, problems }
}

function positionOf(lineCounter: LineCounter, offset: number | undefined): Position | null {
  if (offset === undefined) return null
  const { line, col } = lineCounter.linePos(offset)
  return { line, column: col }
}

/**
 * Where a value sits in the file. Walks the path as far as it exists, so a missing key points at its parent
 * (the place to add it) rather than nowhere.
 */
export function locate(file: ParsedFile | undefined, docIndex: number, path: readonly (string | number)[]): Position {
  const doc = file?.docs[docIndex]?.document
  if (!file || !doc) return { line: null, column: null }
  for (let length = path.length; length >= 0; length--) {
    const node = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true)
    // Point at the key of a mapping entry (`images:`), not at its value, which may start on the next line.
    const parent = length === 0 ? undefined : length === 1 ? doc.contents : doc.getIn(path.slice(0, length - 1), true)
    if (isMap(parent)) {
      const key = path[length - 1]
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key)
      if (pair && isNode(pair.key) && pair.key.range) {
        const pos = positionOf(file.lineCounter, pair.key.range[0])
        if (pos) return pos
      }
    }
    if (isNode(node) && node.range) {
      const pos = positionOf(file.lineCounter, node.range[0])
      if (pos) return pos
    }
  }
  return { line: 1, column: 1 }
}

/** `packageRules[0].pinDigests` → ['packageRules', 0, 'pinDigests'] */
export function optionPath(option: string | null): (string | number)[] {
  if (!option) return []
  const path: (string | number)[] = []
  for (const match of option.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) path.push(Number(match[2]))
    else if (match[1] !== undefined) path.push(match[1])
  }
  return path
}
