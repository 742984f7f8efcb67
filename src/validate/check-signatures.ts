import { isSha256Digest, tryParseImageRef } from '../image-ref/index.js'
import { pinStoreFor } from '../pins/index.js'
import { readEnvironmentPins } from './check-pins.js'
import type { CheckContext } from './context.js'

/** Is `registry/path@digest` signed by a trusted key? (src/verify checkSignature with the keys bound.) */
export type SignatureVerifier = (image: {
  registry: string
  path: string
  digest: string
}) => Promise<{ signed: boolean; summary: string }>

/**
 * Every environment's pinned digest (read through the pin seam, on every shape) must be signed by one of the verify
 * keys. One check per repository@digest; the finding points at the pin's tag (or entry) line.
 */
export async function checkSignatures(ctx: CheckContext, verify: SignatureVerifier): Promise<void> {
  if (!ctx.enabled('image-unsigned') && !ctx.enabled('registry-lookup-failed')) return
  const spec = ctx.spec
  if (!spec) return
  let store: ReturnType<typeof pinStoreFor>
  try {
    store = pinStoreFor(spec)
  } catch {
    return
  }
  const answers = new Map<string, Promise<{ signed: boolean; summary: string } | { error: string }>>()
  const reportedFailures = new Set<string>()
  for (const { pins } of readEnvironmentPins(ctx, spec, store)) {
    for (const pin of pins) {
      if (pin.digest === undefined || !isSha256Digest(pin.digest)) continue
      const ref = tryParseImageRef(`${pin.repository}@${pin.digest}`)
      if (!ref?.digest) continue
      const key = `${ref.registry}/${ref.path}@${ref.digest}`
      let answer = answers.get(key)
      if (!answer) {
        answer = verify({ registry: ref.registry, path: ref.path, digest: ref.digest }).catch((error: unknown) => ({
          error: (error as Error).message,
        }))
        answers.set(key, answer)
      }
      const result = await answer
      const position = { line: pin.line, column: pin.column }
      if ('error' in result) {
        if (reportedFailures.has(key)) continue
        reportedFailures.add(key)
        ctx.report(
          'registry-lookup-failed',
          pin.file,
          position,
          `cannot check the signature of ${key}: ${result.error}`,
        )
      } else if (!result.signed) {
        ctx.report('image-unsigned', pin.file, position, result.summary)
      }
    }
  }
}
