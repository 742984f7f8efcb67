import {
  applyEdits,
  type FormattingOptions,
  findNodeAtLocation,
  type Node as JsonNode,
  modify,
  type ParseError,
  parse as parseJsonc,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser'
import { type Document, isMap, isSeq, type YAMLMap } from 'yaml'
import { UsageError, UserError } from '../cli/errors.js'
import { parseYamlFile } from '../pins/index.js'
import { renovateConfigForRepo } from '../presets/render.js'
import { RENOVATE_CONFIG_FILES } from '../renovate/index.js'
import { NOT_A_GITOPS_REPO } from '../repo/index.js'
import { LEDGER_FILE, parseLedger, renderLedger } from '../scaffold/ledger.js'
import { planFiles } from '../scaffold/plan.js'
import { reconcile } from '../scaffold/reconcile.js'
import { DEPENDABOT_CONFIG, dependabotDirectory } from '../scaffold/updaters.js'
import { type EnvironmentSpec, parseSpec, type RepoSpec, SPEC_FILE } from '../spec/index.js'
import { frozenEnvironmentOf, renovateFreezeRules } from './renovate-rule.js'

export type Freeze = NonNullable<EnvironmentSpec['frozen']>
export type ReadText = (path: string) => string | undefined

/**
 * Renovate's repository config files, in the order it reads them (the first present one wins): the one list
 * (src/renovate) validate and doctor use too.
 */
export const RENOVATE_FILES: readonly string[] = RENOVATE_CONFIG_FILES

export interface FreezePlanInput {
  readonly env: string
  /** The freeze to record, or undefined to lift it. */
  readonly freeze: Freeze | undefined
  readonly readText: ReadText
}

export interface FreezePlan {
  readonly env: string
  /** The spec after the change. */
  readonly spec: RepoSpec
  /** The freeze before the change. */
  readonly previous: Freeze | null
  /** Repo-relative path → new text, only for files that change. */
  readonly files: Map<string, string>
  /** The updater config file the freeze is written to. */
  readonly updaterConfig: string | null
}

/**
 * Record or lift an environment's freeze: the `frozen` field in konflux-gitops.yaml (comments and order kept) and
 * the updater's config, so the two always agree. Pure: text in, text out.
 */
export function planFreeze(input: FreezePlanInput): FreezePlan {
  const specText = input.readText(SPEC_FILE)
  if (specText === undefined) {
    throw new UsageError(`no ${SPEC_FILE} here: it is not a konflux-gitops repo`, {
      code: NOT_A_GITOPS_REPO,
      hint: 'Pass the GitOps repo folder as DIR, or create one with konflux-gitops init.',
    })
  }
  const { spec: before, document } = parseSpec(specText)
  const current = before.environments.find((e) => e.name === input.env)
  if (!current) {
    throw new UsageError(`environment "${input.env}" is not in ${SPEC_FILE}`, {
      code: 'unknown-environment',
      hint: `Known environments: ${before.environments.map((e) => e.name).join(', ') || 'none'}.`,
    })
  }
  const files = new Map<string, string>()
  const environments = document.get('environments', true)
  const node = isSeq(environments)
    ? (environments.items.find((item) => isMap(item) && item.get('name') === input.env) as YAMLMap | undefined)
    : undefined
  if (!node) throw new UserError(`${SPEC_FILE}: environments: cannot find the entry named ${input.env}`)
  if (input.freeze) node.set('frozen', document.createNode(withoutUndefined(input.freeze)))
  else node.delete('frozen')
  const newSpecText = document.toString({ lineWidth: 0 })
  const { spec } = parseSpec(newSpecText)
  if (newSpecText !== specText) files.set(SPEC_FILE, newSpecText)

  // Files init generates from the spec and that mention the freeze (renovate.json, README.md): regenerated the way
  // init would, so a later `init` finds nothing to change. Files the user edited are left to the surgical edit below.
  const generated = regenerated(before, spec, document, input.readText)
  for (const [path, text] of generated.files) files.set(path, text)

  let updaterConfig: string | null = null
  if (spec.updater === 'renovate') {
    updaterConfig = RENOVATE_FILES.find((path) => input.readText(path) !== undefined) ?? null
    if (updaterConfig === null) {
      throw new UserError(`no Renovate config (renovate.json) in this repository: nothing would stop Renovate`, {
        code: 'renovate-config-missing',
        hint: 'Run konflux-gitops init to write renovate.json, then freeze again.',
      })
    }
    const text = files.get(updaterConfig) ?? input.readText(updaterConfig)!
    const updated = withFreezeRules(text, updaterConfig, spec)
    if (updated !== input.readText(updaterConfig)) files.set(updaterConfig, updated)
  } else {
    updaterConfig = DEPENDABOT_CONFIG
    const text = files.get(DEPENDABOT_CONFIG) ?? input.readText(DEPENDABOT_CONFIG)
    if (text === undefined) {
      throw new UserError(`no ${DEPENDABOT_CONFIG} in this repository: nothing would stop Dependabot`, {
        code: 'dependabot-config-missing',
        hint: `Run konflux-gitops init to write ${DEPENDABOT_CONFIG}, then freeze again.`,
      })
    }
    const updated = withDependabotFreeze(text, DEPENDABOT_CONFIG, spec)
    if (updated !== input.readText(DEPENDABOT_CONFIG)) files.set(DEPENDABOT_CONFIG, updated)
  }
  if (generated.ledger !== undefined) files.set(LEDGER_FILE, generated.ledger)
  return { env: input.env, spec, previous: current.frozen ?? null, files, updaterConfig }
}

/**
 * Renovate config text with our freeze rules replaced by the ones the spec asks for (last, in the spec's order, the
 * way the renderer writes them). Edited as text with jsonc-parser, so everything else (formatting, comments in a
 * .jsonc file, key order) stays exactly as the user left it, and unfreeze gives back the very same bytes.
 */
export function withFreezeRules(text: string, file: string, spec: RepoSpec): string {
  const errors: ParseError[] = []
  const config = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false }) as unknown
  if (errors.length > 0 || config === null || typeof config !== 'object' || Array.isArray(config)) {
    const first = errors[0]
    throw new UserError(
      `${file} is not a JSON object${first ? ` (${printParseErrorCode(first.error)} at offset ${first.offset})` : ''}: cannot add the freeze rule safely`,
      {
        code: 'renovate-config-unreadable',
        hint: `Fix ${file}, or add a packageRules entry with enabled: false for the environment by hand.`,
      },
    )
  }
  const existing = (config as Record<string, unknown>).packageRules
  if (existing !== undefined && !Array.isArray(existing)) {
    throw new UserError(`${file}: packageRules is not a list`, { code: 'renovate-config-unreadable' })
  }
  const wanted = renovateFreezeRules(spec)
  const ours = (existing ?? []).flatMap((rule, index) => (frozenEnvironmentOf(rule) === undefined ? [] : [index]))
  const tail = (existing ?? []).slice((existing ?? []).length - ours.length)
  // Already as wanted (our rules last, in order): leave the text alone.
  if (
    ours.every((index, k) => index === (existing ?? []).length - ours.length + k) &&
    JSON.stringify(tail) === JSON.stringify(wanted)
  ) {
    return text
  }
  const formattingOptions = formattingOf(text)
  const edit = (current: string, path: (string | number)[], value: unknown) =>
    applyEdits(current, modify(current, path, value, { formattingOptions }))
  let next = text
  for (const index of [...ours].reverse()) next = removeFromArray(next, ['packageRules'], index)
  const kept = (existing ?? []).length - ours.length
  if (existing !== undefined && kept === 0 && wanted.length === 0) {
    // A list that held only our rules was added by freeze: unfreeze takes it away again.
    next = edit(next, ['packageRules'], undefined)
  } else if (existing === undefined) {
    next = edit(next, ['packageRules'], wanted)
  } else {
    for (const rule of wanted) next = appendToArray(next, ['packageRules'], rule, formattingOptions)
  }
  return next.endsWith('\n') || !text.endsWith('\n') ? next : `${next}\n`
}

/**
 * Append one element to a JSON array, indented like its neighbours. jsonc-parser's own formatting of an insertion
 * re-flows the line before it (the previous element), so it only locates the spot here and the text is laid out by
 * hand: one element, its lines indented the way the array's lines are.
 */
function appendToArray(text: string, path: (string | number)[], value: unknown, options: FormattingOptions): string {
  const [located] = modify(text, [...path, -1], value, { isArrayInsertion: true })
  if (!located) return text
  const unit = options.insertSpaces ? ' '.repeat(options.tabSize ?? 2) : '\t'
  const lineStart = text.lastIndexOf('\n', located.offset - 1) + 1
  const lineIndent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ''
  const afterComma = located.content.startsWith(',')
  // After an element, its line's indentation is the elements'; in an empty array, one level below the `[` line.
  const indent = afterComma ? lineIndent : `${lineIndent}${unit}`
  const body = JSON.stringify(value, null, unit).split('\n').join(`\n${indent}`)
  const content = afterComma ? `,\n${indent}${body}` : `\n${indent}${body}\n${lineIndent}`
  const end = located.offset + located.length
  return `${text.slice(0, located.offset)}${content}${text.slice(end)}`
}

/** Remove one element of a JSON array with the separator before it (after it, for the first); nothing else moves. */
function removeFromArray(text: string, path: (string | number)[], index: number): string {
  const array = findNodeAtLocation(parseTree(text, [], { allowTrailingComma: true }) as JsonNode, path)
  const items = array?.children ?? []
  const node = items[index]
  if (!array || !node) return text
  const previous = items[index - 1]
  const next = items[index + 1]
  if (previous) return text.slice(0, previous.offset + previous.length) + text.slice(node.offset + node.length)
  if (next) return text.slice(0, node.offset) + text.slice(next.offset)
  return `${text.slice(0, array.offset + 1)}${text.slice(array.offset + array.length - 1)}`
}

/**
 * Dependabot's side of a freeze, as init renders it: `open-pull-requests-limit: 0` on the environment's update block
 * (the block whose directory holds its pins), so Dependabot opens no pull request for it; unfreeze deletes the key.
 * Edited with the yaml Document API so the rest of a file the user changed stays as it is.
 */
export function withDependabotFreeze(text: string, file: string, spec: RepoSpec): string {
  const doc = parseYamlFile(text, file)
  const updates = doc.get('updates', true)
  if (!isSeq(updates)) throw new UserError(`${file}: updates: must be a list`, { code: 'dependabot-config-unreadable' })
  for (const env of spec.environments) {
    const directory = dependabotDirectory(spec, env.name)
    const block = updates.items.find((item) => {
      if (!isMap(item)) return false
      const listed = [item.get('directory'), ...((item.toJSON() as { directories?: unknown[] }).directories ?? [])]
      return listed.some((d) => typeof d === 'string' && d.replace(/\/+$/, '') === directory)
    }) as YAMLMap | undefined
    if (!block) {
      if (env.frozen) {
        throw new UserError(`${file} has no update block for ${directory}: cannot pause Dependabot for ${env.name}`, {
          code: 'dependabot-config-unreadable',
          hint: 'Run konflux-gitops init to regenerate it, or pause that environment by hand.',
        })
      }
      continue
    }
    if (env.frozen) {
      if (block.get('open-pull-requests-limit') !== 0) block.set('open-pull-requests-limit', 0)
    } else if (block.get('open-pull-requests-limit') === 0) block.delete('open-pull-requests-limit')
  }
  const next = doc.toString({ lineWidth: 0 })
  // Untouched documents keep their exact text (the yaml printer may normalise spacing).
  return JSON.stringify(doc.toJS()) === JSON.stringify(parseYamlFile(text, file).toJS()) ? text : next
}

/** Indentation as the file has it, so inserted rules look like the rest. */
function formattingOf(text: string): FormattingOptions {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  '
  return indent.startsWith('\t')
    ? { insertSpaces: false, tabSize: 1, eol: '\n' }
    : { insertSpaces: true, tabSize: indent.length, eol: '\n' }
}

/**
 * What init's planner writes differently for the new spec than for the old one, reconciled against the tree and
 * the ledger of generated files the way init does it: only files this tool wrote and the user left alone change,
 * and their ledger entries follow. Created files are never part of a freeze.
 */
function regenerated(
  previous: RepoSpec,
  spec: RepoSpec,
  document: Document,
  readText: ReadText,
): { files: Map<string, string>; ledger: string | undefined } {
  const render = (which: RepoSpec) =>
    planFiles({
      spec: which,
      previous,
      specDocument: document,
      readText,
      renovateConfig: `${JSON.stringify(renovateConfigForRepo(which), null, 2)}\n`,
    })
  const before = new Map(render(previous).map((file) => [file.path, file.content]))
  const desired = render(spec)
  const affected = new Set(
    desired.filter((file) => file.path !== SPEC_FILE && before.get(file.path) !== file.content).map((f) => f.path),
  )
  const ledgerText = readText(LEDGER_FILE)
  const ledger = parseLedger(ledgerText)
  const { changes, ledger: next } = reconcile(desired, readText, ledger, { force: false })
  const files = new Map<string, string>()
  const entries = { ...ledger.files }
  for (const change of changes) {
    if (!affected.has(change.path) || change.action !== 'update' || change.after === undefined) continue
    files.set(change.path, change.after)
    const entry = next.files[change.path]
    if (entry !== undefined) entries[change.path] = entry
  }
  const nextLedger = ledgerText === undefined ? undefined : renderLedger({ ...ledger, files: entries })
  return { files, ledger: nextLedger === ledgerText ? undefined : nextLedger }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
