import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The templates are real files under `scaffolds/` so users can read what they will get. They hold `${name}`
 * placeholders and nothing else: conditional parts are edited afterwards with the yaml Document API, which keeps
 * this substitution small enough to hand-write (a template engine would add a dependency for one regex).
 */
const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g

const cache = new Map<string, string>()
let scaffoldsDir: string | undefined

/** The package's `scaffolds/`: two levels up from src/scaffold, three from dist/src/scaffold. */
function findScaffoldsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 5; depth++) {
    if (existsSync(join(dir, 'scaffolds', 'repo', 'README.md'))) return join(dir, 'scaffolds')
    dir = dirname(dir)
  }
  throw new Error(`the scaffolds/ folder of konflux-gitops is missing near ${fileURLToPath(import.meta.url)}`)
}

export function loadTemplate(name: string): string {
  let text = cache.get(name)
  if (text === undefined) {
    scaffoldsDir ??= findScaffoldsDir()
    text = readFileSync(join(scaffoldsDir, name), 'utf8')
    cache.set(name, text)
  }
  return text
}

/** Fill `${name}` placeholders; a placeholder without a value is a bug in this program, so it throws. */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    const value = values[key]
    if (value === undefined) throw new Error(`template placeholder \${${key}} has no value`)
    return String(value)
  })
}

export function renderTemplate(name: string, values: Readonly<Record<string, string | number>>): string {
  return fillTemplate(loadTemplate(name), values)
}
