/** `released@sha256:<hex>` → { tag: 'released', digest: 'sha256:<hex>' }; `released` → { tag: 'released' }. */
export function parsePinnedTag(value: string): { tag: string | undefined; digest: string | undefined } {
  const at = value.indexOf('@')
  if (at < 0) return { tag: value === '' ? undefined : value, digest: undefined }
  const tag = value.slice(0, at)
  return { tag: tag === '' ? undefined : tag, digest: value.slice(at + 1) }
}

export function formatPinnedTag(tag: string, digest: string | undefined): string {
  return digest === undefined ? tag : `${tag}@${digest}`
}
