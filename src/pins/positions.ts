import { type Document, isMap, isNode, isScalar, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml'
import { UsageError } from '../cli/errors.js'
import type { PinPosition } from './types.js'

/** A parsed pin file and the way from a node to its 1-based line and column. */
export interface LocatedDocument {
  readonly doc: Document
  /** Where a node starts; null for a node without a range (one built in code). */
  at(node: unknown): PinPosition | null
}

/** Where an offset in the file is; one LineCounter per file, so a position costs a binary search. */
export function locator(lineCounter: LineCounter): (node: unknown) => PinPosition | null {
  return (node) => {
    if (!isNode(node) || !node.range) return null
    const { line, col } = lineCounter.linePos(node.range[0])
    return { line, column: col }
  }
}

export function parseYamlFile(text: string, file: string): Document {
  return parseLocated(text, file).doc
}

/** Parse a pin file keeping positions; a syntax error is a usage error naming file, line and column. */
export function parseLocated(text: string, file: string): LocatedDocument {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter })
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const pos = first.linePos?.[0]
    throw new UsageError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${first.message.split('\n')[0]}`, {
      code: 'invalid-yaml',
      hint: `Fix the YAML syntax in ${file}, then run the command again.`,
    })
  }
  return { doc, at: locator(lineCounter) }
}

/** Where `key:` of a mapping entry is written (the key, so a value on the next line still points at its key). */
export function keyAt(at: LocatedDocument['at'], map: YAMLMap, key: string): PinPosition | null {
  const pair = map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key)
  return pair ? (at(pair.key) ?? at(pair.value)) : null
}

/** The map at `path` under `map`, if every step is a map. */
export function mapAt(map: YAMLMap, path: readonly string[]): YAMLMap | undefined {
  let node: Node | undefined = map
  for (const key of path) {
    if (!isMap(node)) return undefined
    node = node.get(key, true) as Node | undefined
  }
  return isMap(node) ? node : undefined
}

export const START: PinPosition = { line: 1, column: 1 }
