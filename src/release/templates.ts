/**
 * Tag templates as Konflux's push-snapshot writes them: `{{ git_sha }}`, `{{ git_short_sha }}`, `{{ digest_sha }}`,
 * `{{ timestamp }}` (image build time), `{{ release_timestamp }}` (now) and `{{ labels.NAME }}` (an image label),
 * timestamps in `defaults.timestampFormat` (strftime, default `%s`). Hand-written: the grammar is one regex and a template engine would accept far more
 * than Konflux does, producing tags Konflux would not.
 */

export const TAG_PATTERN = /^[a-zA-Z0-9._-]+$/
const MAX_TAG_LENGTH = 128
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g

export interface TemplateValues {
  gitSha: string | undefined
  digest: string
  buildTime: Date | undefined
  /** Image config labels, for `{{ labels.NAME }}`. */
  labels?: Readonly<Record<string, string>> | undefined
  releaseTime: Date
  timestampFormat: string
}

export class TemplateError extends Error {}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** The strftime subset tags need; anything else is refused so a typo never becomes a tag. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(.)/g, (_, letter: string) => {
    switch (letter) {
      case 's':
        return String(Math.floor(date.getTime() / 1000))
      case 'Y':
        return String(date.getUTCFullYear())
      case 'y':
        return pad(date.getUTCFullYear() % 100)
      case 'm':
        return pad(date.getUTCMonth() + 1)
      case 'd':
        return pad(date.getUTCDate())
      case 'H':
        return pad(date.getUTCHours())
      case 'M':
        return pad(date.getUTCMinutes())
      case 'S':
        return pad(date.getUTCSeconds())
      case '%':
        return '%'
      default:
        throw new TemplateError(`timestampFormat: %${letter} is not supported (use %Y %y %m %d %H %M %S %s)`)
    }
  })
}

/** Does the template need the image config (build time or labels) read from the registry? */
export function usesImageConfig(template: string): boolean {
  return [...template.matchAll(PLACEHOLDER)].some((m) => m[1] === 'timestamp' || m[1]?.startsWith('labels.'))
}

/** Render one tag template; throws TemplateError naming the placeholder or the character that is wrong. */
export function renderTag(template: string, values: TemplateValues): string {
  const rendered = template.replace(PLACEHOLDER, (_, name: string) => {
    switch (name) {
      case 'git_sha':
        if (!values.gitSha) throw new TemplateError('{{ git_sha }} needs the component source.git.revision')
        return values.gitSha
      case 'git_short_sha':
        if (!values.gitSha) throw new TemplateError('{{ git_short_sha }} needs the component source.git.revision')
        return values.gitSha.slice(0, 7)
      case 'digest_sha':
        return values.digest.replace(/^[^:]+:/, '')
      case 'timestamp':
        if (!values.buildTime) throw new TemplateError('{{ timestamp }} needs the image build time (config "created")')
        return strftime(values.buildTime, values.timestampFormat)
      case 'release_timestamp':
        return strftime(values.releaseTime, values.timestampFormat)
      default: {
        if (name.startsWith('labels.')) {
          const label = name.slice('labels.'.length)
          const value = values.labels?.[label]
          if (value === undefined) throw new TemplateError(`{{ ${name} }}: the image has no label "${label}"`)
          return value
        }
        throw new TemplateError(
          `{{ ${name} }} is not a known placeholder (git_sha, git_short_sha, digest_sha, timestamp, release_timestamp, labels.NAME)`,
        )
      }
    }
  })
  if (rendered.includes('{{') || rendered.includes('}}')) throw new TemplateError(`unbalanced braces in "${template}"`)
  if (!TAG_PATTERN.test(rendered)) {
    throw new TemplateError(`"${rendered}" is not a valid tag: only letters, digits, ".", "_" and "-"`)
  }
  if (rendered.length > MAX_TAG_LENGTH) {
    throw new TemplateError(`"${rendered}" is ${rendered.length} characters; tags are at most ${MAX_TAG_LENGTH}`)
  }
  return rendered
}
