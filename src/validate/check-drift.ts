import { isSha256Digest } from '../image-ref/index.js'
import { repositoryOf } from './check-kustomize.js'
import { kustomizationFiles } from './check-layout.js'
import { type CheckContext, isRecord } from './context.js'
import { locate } from './yaml-docs.js'

/** Asks a registry which digest `repository:tag` points to now. */
export type DigestResolver = (reference: string) => Promise<string>

interface Pin {
  file: string
  line: number | null
  column: number | null
  repository: string
  tag: string
  digest: string
}

function collectPins(ctx: CheckContext): Pin[] {
  const pins: Pin[] = []
  for (const [path, file] of kustomizationFiles(ctx)) {
    const value = file.docs[0]?.value
    const images = isRecord(value) ? value.images : undefined
    if (!Array.isArray(images)) continue
    images.forEach((entry, index) => {
      if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.newTag !== 'string') return
      const at = entry.newTag.indexOf('@')
      if (at <= 0) return
      const tag = entry.newTag.slice(0, at)
      const digest = entry.newTag.slice(at + 1)
      const repo = repositoryOf(typeof entry.newName === 'string' ? entry.newName : entry.name)
      if (!repo || !isSha256Digest(digest)) return
      const position = locate(file, 0, ['images', index, 'newTag'])
      pins.push({ file: path, ...position, repository: repo, tag, digest })
    })
  }
  return pins
}

/** For each `tag@digest` pin, is the digest still what the tag points to? One registry request per repository:tag. */
export async function checkDrift(ctx: CheckContext, resolve: DigestResolver): Promise<void> {
  if (!ctx.enabled('image-drift') && !ctx.enabled('registry-lookup-failed')) return
  const pins = collectPins(ctx)
  const lookups = new Map<string, Promise<{ digest: string } | { error: string }>>()
  for (const pin of pins) {
    const reference = `${pin.repository}:${pin.tag}`
    if (!lookups.has(reference)) {
      lookups.set(
        reference,
        resolve(reference).then(
          (digest) => ({ digest }),
          (error: Error) => ({ error: error.message }),
        ),
      )
    }
  }
  const reportedFailures = new Set<string>()
  for (const pin of pins) {
    const reference = `${pin.repository}:${pin.tag}`
    const result = await lookups.get(reference)!
    const position = { line: pin.line, column: pin.column }
    if ('error' in result) {
      if (reportedFailures.has(reference)) continue
      reportedFailures.add(reference)
      ctx.report('registry-lookup-failed', pin.file, position, `cannot resolve ${reference}: ${result.error}`)
    } else if (result.digest !== pin.digest) {
      ctx.report(
        'image-drift',
        pin.file,
        position,
        `${reference} now points to ${result.digest}; this file pins ${pin.digest}`,
      )
    }
  }
}
