import { parseImageRef } from '../image-ref/index.js'
import { pinStoreFor } from '../pins/index.js'
import type { RegistryClient } from '../registry/index.js'
import type { CheckLine, DoctorContext } from './types.js'

/**
 * With `verify: {keys: [...]}` in konflux-gitops.yaml: per environment, is every pinned digest signed by one of the
 * keys (src/verify)? One check per distinct repository@digest. Nothing without verify keys.
 */
export async function checkSignatures(ctx: DoctorContext, client: RegistryClient): Promise<CheckLine[]> {
  const spec = ctx.spec
  if (!spec?.verify) return []
  const verify = await import('../verify/index.js')
  let keys: Awaited<ReturnType<typeof verify.loadVerificationKeys>>
  try {
    keys = await verify.loadVerificationKeys(verify.repoKeySources(ctx.dir, spec.verify.keys))
  } catch (error) {
    const e = error as { message: string; hint?: string }
    return [
      {
        id: 'registry.signed',
        link: 'registry',
        status: 'fail',
        message: `verify.keys in konflux-gitops.yaml: ${e.message.replaceAll(`${ctx.dir}/`, '')}`,
        fix: e.hint ?? 'Fix verify.keys in konflux-gitops.yaml.',
      },
    ]
  }
  const store = pinStoreFor(spec)
  const checks = new Map<string, Promise<{ signed: boolean; summary: string } | { error: string }>>()
  const lines: CheckLine[] = []
  for (const env of spec.environments) {
    const id = `registry.signed.${env.name}`
    let pins: ReturnType<typeof store.read>
    try {
      pins = store.read(spec, env.name, (p) => ctx.readText(p))
    } catch {
      continue // registry.pins reports an unreadable pin file
    }
    const unsigned: string[] = []
    const errors: string[] = []
    let signed = 0
    for (const pin of pins) {
      if (!pin.digest) continue
      const ref = parseImageRef(`${pin.repository}@${pin.digest}`)
      const key = `${ref.registry}/${ref.path}@${pin.digest}`
      let check = checks.get(key)
      if (!check) {
        check = verify
          .checkSignature(client, { registry: ref.registry, path: ref.path, digest: pin.digest }, keys)
          .catch((error: unknown) => ({ error: (error as Error).message }))
        checks.set(key, check)
      }
      const result = await check
      const name = pin.component ?? pin.name
      if ('error' in result) errors.push(`${name}: ${result.error}`)
      else if (result.signed) signed++
      else unsigned.push(`${name}: ${result.summary}`)
    }
    if (unsigned.length > 0) {
      lines.push({
        id,
        link: 'registry',
        status: 'fail',
        message: `${env.name} pins unsigned digests: ${unsigned.join('; ')}`,
        fix: 'Pin only digests Konflux built and signed (release them with `konflux-gitops release --verify-key`); check verify.keys holds the Chains public key.',
      })
    } else if (errors.length > 0) {
      lines.push({
        id,
        link: 'registry',
        status: 'warn',
        message: `${env.name}: cannot check signatures: ${errors.join('; ')}`,
        fix: 'Check registry access (see the registry.tag lines).',
      })
    } else {
      lines.push({
        id,
        link: 'registry',
        status: 'ok',
        message: `${env.name}: ${signed} pinned digest(s) signed by ${keys.map((k) => k.label.replaceAll(`${ctx.dir}/`, '')).join(', ')}`,
        fix: null,
      })
    }
  }
  return lines
}
