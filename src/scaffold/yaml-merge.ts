import { type Document, isScalar, isSeq, YAMLSeq as Seq, type YAMLSeq } from 'yaml'
import { UsageError } from '../cli/errors.js'

/**
 * Make `key` hold every wanted item, drop items this tool manages (`managed`) that are no longer wanted, and keep
 * everything else the user put there, in their order and with their comments. `keyOf` names an item (a plain
 * string, or e.g. the `path` of a kustomize patch entry); items it cannot name are the user's and stay.
 */
export function mergeList(
  doc: Document,
  key: string,
  file: string,
  wanted: readonly string[],
  managed: (item: string) => boolean,
  options: { keyOf?: (item: unknown) => string | undefined; create?: (item: string) => unknown } = {},
): void {
  let seq = doc.get(key, true)
  if (seq === undefined || (isScalar(seq) && seq.value === null)) {
    seq = new Seq()
    doc.set(key, seq)
  }
  if (!isSeq(seq)) {
    throw new UsageError(`${file}: ${key}: must be a list`, {
      code: 'invalid-kustomization',
      hint: `Make ${key} a YAML list in ${file}.`,
    })
  }
  const list = seq as YAMLSeq
  const keyOf =
    options.keyOf ??
    ((item: unknown) => {
      const value = isScalar(item) ? item.value : item
      return typeof value === 'string' ? value : undefined
    })
  const normalise = (value: string) => value.replace(/\/$/, '')
  const present = new Set<string>()
  list.items = list.items.filter((item) => {
    const value = keyOf(item)
    if (value === undefined) return true
    if (managed(value) && !wanted.includes(normalise(value))) return false
    present.add(normalise(value))
    return true
  })
  for (const item of wanted) {
    if (!present.has(item)) list.items.push(doc.createNode(options.create ? options.create(item) : item))
  }
  list.flow = false
}
