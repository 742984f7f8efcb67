import { createHash } from 'node:crypto'

/**
 * What this tool last wrote, committed with the repo: it tells a file the user edited (keep it, report it) from
 * one we wrote and may replace. Merged files (kustomization lists, the spec) are marked, not hashed: they are
 * always merged, never replaced.
 */
export const LEDGER_FILE = '.konflux-gitops/generated.json'
export const MERGED = 'merged'

export interface Ledger {
  readonly version: 1
  /** path → `sha256:<hex>` of the content last written, or `merged`. */
  readonly files: Readonly<Record<string, string>>
  /** Image repositories this tool last wrote pins for: one that leaves the spec has its pins removed. */
  readonly images?: readonly string[]
}

export function contentHash(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

export function parseLedger(text: string | undefined): Ledger {
  if (text === undefined) return { version: 1, files: {} }
  try {
    const parsed = JSON.parse(text) as Partial<Ledger>
    if (parsed && parsed.version === 1 && parsed.files && typeof parsed.files === 'object') {
      const images = Array.isArray(parsed.images) ? parsed.images.filter((i) => typeof i === 'string') : undefined
      return { version: 1, files: { ...parsed.files }, ...(images ? { images } : {}) }
    }
  } catch {
    // An unreadable ledger only means every existing file is treated as possibly edited by the user.
  }
  return { version: 1, files: {} }
}

export function renderLedger(ledger: Ledger): string {
  const files = Object.fromEntries(Object.entries(ledger.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const images = ledger.images ? { images: [...new Set(ledger.images)].sort() } : {}
  return `${JSON.stringify({ version: 1, files, ...images }, null, 2)}\n`
}
