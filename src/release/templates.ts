/**
 * Tag templates expanded as release-service-catalog's apply-mapping expands them:
 * `{{ git_sha }}`, `{{ git_short_sha }}`, `{{ digest_sha }}`, `{{ timestamp }}` (the image's build date),
 * `{{ release_timestamp }}` (now, to the second), `{{ oci_version }}`, `{{ incrementer }}`,
 * `{{ component-incrementer }}` and `{{ labels.NAME }}`; timestamps through GNU date formats, in UTC.
 * Placeholders are replaced leftmost first, so `{{ incrementer }}` sees the placeholders before it already expanded.
 * Hand-written: the grammar is one regex; a template engine would accept far more than Konflux does.
 */
import { DateStringError, gnuDateFormat, parseDateString } from './strftime.js'

export const TAG_PATTERN = /^[a-zA-Z0-9._-]+$/
const MAX_TAG_LENGTH = 128
/** The placeholder Konflux recognises (any spacing inside the braces). */
const PLACEHOLDER = /\{\{ *([A-Za-z0-9_.-]+) *\}\}/
const PLACEHOLDERS = new RegExp(PLACEHOLDER.source, 'g')
const KNOWN =
  'git_sha, git_short_sha, digest_sha, timestamp, release_timestamp, oci_version, incrementer, component-incrementer, labels.NAME'

export interface TemplateValues {
  gitSha: string | undefined
  digest: string
  /** The image's build date as it records it (build-date label, org.opencontainers.image.created, config created). */
  buildDate?: string | undefined
  /** Image config labels, for `{{ labels.NAME }}` (a Helm chart has none). */
  labels?: Readonly<Record<string, string>> | undefined
  /** `org.opencontainers.image.version` as the image records it, for `{{ oci_version }}`. */
  ociVersion?: string | undefined
  releaseTime: Date
  timestampFormat: string
  /** Tags already in the target repository, for `{{ incrementer }}` (undefined: not read). */
  existingTags?: readonly string[] | undefined
  /** Tags already in every target repository of the component, for `{{ component-incrementer }}`. */
  componentExistingTags?: readonly string[] | undefined
}

export class TemplateError extends Error {}

/** Does the template need the image config or manifest (build date, labels, version) read from the registry? */
export function usesImageConfig(template: string): boolean {
  return [...template.matchAll(PLACEHOLDERS)].some(
    (m) => m[1] === 'timestamp' || m[1] === 'oci_version' || m[1]?.startsWith('labels.'),
  )
}

/** Does the template need the target repository's tag list (`{{ incrementer }}`)? */
export function usesTagList(template: string): boolean {
  return [...template.matchAll(PLACEHOLDERS)].some((m) => m[1] === 'incrementer' || m[1] === 'component-incrementer')
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The next number after the highest `<prefix><n>` tag already there (1 when there is none). */
function nextIncrement(tag: string, name: string, existing: readonly string[] | undefined): string {
  if (existing === undefined) throw new TemplateError(`{{ ${name} }} needs the tag list of the target repository`)
  const pattern = new RegExp(`\\{\\{ *${escapeRegExp(name)} *\\}\\}`, 'g')
  const prefix = tag.replace(pattern, '')
  const match = new RegExp(`^${escapeRegExp(prefix)}([0-9]+)$`)
  let max = 0
  for (const candidate of existing) {
    const found = match.exec(candidate)
    if (found) max = Math.max(max, Number(found[1]))
  }
  return tag.replace(pattern, String(max + 1))
}

function substitute(name: string, values: TemplateValues): string {
  switch (name) {
    case 'git_sha':
      if (!values.gitSha) throw new TemplateError('{{ git_sha }} needs the component source.git.revision')
      return values.gitSha
    case 'git_short_sha':
      if (!values.gitSha) throw new TemplateError('{{ git_short_sha }} needs the component source.git.revision')
      return values.gitSha.slice(0, 7)
    case 'digest_sha':
      return values.digest.replace(/^[^:]+:/, '')
    case 'timestamp': {
      if (values.buildDate === undefined || values.buildDate === '') {
        throw new TemplateError(
          '{{ timestamp }} needs the image build date (label build-date or org.opencontainers.image.created, or the config created)',
        )
      }
      try {
        return gnuDateFormat(parseDateString(values.buildDate), values.timestampFormat)
      } catch (error) {
        if (error instanceof DateStringError) throw new TemplateError(`{{ timestamp }}: ${error.message}`)
        throw error
      }
    }
    case 'release_timestamp':
      // Konflux reads the clock once, to the second, then formats that.
      return gnuDateFormat(
        { seconds: Math.floor(values.releaseTime.getTime() / 1000), nanos: 0 },
        values.timestampFormat,
      )
    case 'oci_version':
      return (values.ociVersion ?? '').replaceAll('+', '_') || 'unknown'
    default: {
      if (name.startsWith('labels.')) {
        const label = name.slice('labels.'.length)
        const value = values.labels?.[label]
        if (value === undefined || value === '') {
          throw new TemplateError(`{{ ${name} }}: the image has no label "${label}"`)
        }
        return value
      }
      throw new TemplateError(`{{ ${name} }} is not a known placeholder (${KNOWN})`)
    }
  }
}

/** Render one tag template; throws TemplateError naming the placeholder or the character that is wrong. */
export function renderTag(template: string, values: TemplateValues): string {
  let tag = template
  let from = 0
  for (;;) {
    const match = PLACEHOLDER.exec(tag.slice(from))
    if (!match) break
    const name = match[1]!
    const at = from + match.index
    if (name === 'incrementer' || name === 'component-incrementer') {
      const before = tag.slice(0, at)
      tag = nextIncrement(
        tag,
        name,
        name === 'incrementer' ? values.existingTags : (values.componentExistingTags ?? values.existingTags),
      )
      from = before.length
      continue
    }
    const replacement = substitute(name, values)
    tag = tag.slice(0, at) + replacement + tag.slice(at + match[0].length)
    // Replaced text is not expanded again (a label value with braces stays as it is, and then fails the check).
    from = at + replacement.length
  }
  if (tag.includes('{{') || tag.includes('}}')) {
    throw new TemplateError(`"${template}" has a placeholder Konflux does not read (known: ${KNOWN})`)
  }
  if (!TAG_PATTERN.test(tag)) {
    throw new TemplateError(`"${tag}" is not a valid tag: only letters, digits, ".", "_" and "-"`)
  }
  if (tag.length > MAX_TAG_LENGTH) {
    throw new TemplateError(`"${tag}" is ${tag.length} characters; tags are at most ${MAX_TAG_LENGTH}`)
  }
  return tag
}
