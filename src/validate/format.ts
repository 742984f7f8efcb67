import { type Finding, RULES, type Severity } from './rules.js'
import type { ValidateReport } from './validate.js'

export const FORMATS = ['text', 'json', 'github', 'sarif'] as const
export type Format = (typeof FORMATS)[number]

const COLOURS: Record<Severity | 'dim' | 'bold' | 'ok', [string, string]> = {
  error: ['\u001b[31m', '\u001b[39m'],
  warning: ['\u001b[33m', '\u001b[39m'],
  note: ['\u001b[36m', '\u001b[39m'],
  ok: ['\u001b[32m', '\u001b[39m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  bold: ['\u001b[1m', '\u001b[22m'],
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Human output grouped by file; colours only when the caller says stdout is a terminal. */
export function formatText(report: ValidateReport, options: { colour: boolean }): string {
  const paint = (style: keyof typeof COLOURS, text: string) =>
    options.colour ? `${COLOURS[style][0]}${text}${COLOURS[style][1]}` : text
  const lines: string[] = []
  let current: string | undefined
  for (const f of report.findings) {
    if (f.file !== current) {
      if (current !== undefined) lines.push('')
      lines.push(paint('bold', f.file))
      current = f.file
    }
    const where = f.line === null ? '-' : `${f.line}:${f.column ?? 1}`
    lines.push(`  ${where.padEnd(7)} ${paint(f.severity, f.severity.padEnd(7))} ${f.message}  ${paint('dim', f.rule)}`)
    lines.push(`  ${' '.repeat(7)} ${paint('dim', `hint: ${f.hint}`)}`)
  }
  if (lines.length > 0) lines.push('')
  const { error, warning, note } = report.counts
  const total = error + warning + note
  if (total === 0) {
    lines.push(paint('ok', `✔ no findings in ${plural(report.filesChecked, 'file')}`))
  } else {
    const parts = [plural(error, 'error'), plural(warning, 'warning')]
    if (note > 0) parts.push(plural(note, 'note'))
    const files = new Set(report.findings.map((f) => f.file)).size
    const mark = report.ok ? paint('ok', '✔') : paint('error', '✖')
    lines.push(`${mark} ${parts.join(', ')} in ${plural(files, 'file')} (fails on ${report.failOn})`)
  }
  return lines.join('\n')
}

// GitHub workflow commands: data and property values have their own escaping rules.
function escapeData(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}
function escapeProperty(value: string): string {
  return escapeData(value).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/** `::error file=…,line=…::…` lines, which GitHub Actions turns into annotations on the pull request. */
export function formatGithub(report: ValidateReport): string {
  const command: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' }
  const lines = report.findings.map((f) => {
    const props = [`file=${escapeProperty(f.file)}`]
    if (f.line !== null) props.push(`line=${f.line}`)
    if (f.column !== null) props.push(`col=${f.column}`)
    props.push(`title=${escapeProperty(`konflux-gitops ${f.rule}`)}`)
    return `::${command[f.severity]} ${props.join(',')}::${escapeData(`${f.message}\nHint: ${f.hint}`)}`
  })
  const { error, warning, note } = report.counts
  lines.push(`konflux-gitops validate: ${error} errors, ${warning} warnings, ${note} notes`)
  return lines.join('\n')
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'

/** SARIF 2.1.0, which GitHub code scanning and other tools import. */
export function formatSarif(report: ValidateReport, toolVersion: string): Record<string, unknown> {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]))
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'konflux-gitops',
            version: toolVersion,
            informationUri: 'https://github.com/konflux-ci',
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.summary },
              help: { text: r.hint },
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        originalUriBaseIds: { REPOROOT: { description: { text: 'The validated GitOps repository' } } },
        results: report.findings.map((f: Finding) => {
          const region: Record<string, number> = {}
          if (f.line !== null) region.startLine = f.line
          if (f.line !== null && f.column !== null) region.startColumn = f.column
          return {
            ruleId: f.rule,
            ruleIndex: ruleIndex.get(f.rule) ?? -1,
            level: f.severity,
            message: { text: `${f.message}. Hint: ${f.hint}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: encodeURI(f.file), uriBaseId: 'REPOROOT' },
                  ...(f.line !== null ? { region } : {}),
                },
              },
            ],
          }
        }),
      },
    ],
  }
}
