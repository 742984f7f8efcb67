import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { UsageError, UserError } from '../cli/errors.js'
import { requireInstalled } from '../cli/optional-dependency.js'
import { tryParseImageRef } from '../image-ref/index.js'
import { describeIssue, type Issue, validateRenovateConfig } from '../renovate/index.js'
import { DNS_LABEL } from '../spec/index.js'
import {
  checkAutomergeEnvironment,
  orgPresetParameters,
  PRESET_NAMES,
  type PresetName,
  type PresetParameters,
  type RenovateConfig,
  renderAllPresets,
} from './render.js'

export interface PresetOptions {
  registryPrefix?: string | undefined
  tag?: string | undefined
  /** Environments whose digest updates auto-merge; `[]` for none. Default: dev. */
  automerge?: string[] | undefined
}

export interface PresetFile {
  name: PresetName
  file: string
  config: RenovateConfig
  /** Exactly the bytes written or published. */
  content: string
}

export interface ValidatedPresets {
  parameters: PresetParameters
  files: PresetFile[]
  warnings: Issue[]
}

export interface BuildPresetsResult {
  out: string
  dryRun: boolean
  parameters: PresetParameters
  files: Array<{ name: PresetName; path: string; status: 'created' | 'updated' | 'unchanged' }>
  warnings: Issue[]
}

/** Check the organisation's values the way a user typed them, naming the flag that is wrong. */
export function checkPresetOptions(options: PresetOptions): PresetParameters {
  const prefix = options.registryPrefix?.replace(/\/+$/, '')
  if (prefix !== undefined) {
    const ref = tryParseImageRef(prefix)
    if (!ref || ref.tag !== undefined || ref.digest !== undefined || prefix.includes('*')) {
      throw new UsageError(`--registry-prefix: "${options.registryPrefix}" is not an image repository prefix`, {
        hint: 'Give a registry host and optional path without tag or digest, e.g. quay.io/acme or quay.io/redhat-user-workloads/acme-tenant.',
      })
    }
  }
  if (options.tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(options.tag)) {
    throw new UsageError(`--tag: "${options.tag}" is not a valid image tag`, {
      hint: 'Use the floating tag Konflux moves after tests pass, e.g. released.',
    })
  }
  for (const env of options.automerge ?? []) {
    if (!DNS_LABEL.test(env)) {
      throw new UsageError(`--automerge: "${env}" is not an environment name`, {
        hint: 'Environment names are lowercase letters, digits and "-", e.g. dev or staging.',
      })
    }
    checkAutomergeEnvironment(env, '--automerge')
  }
  return orgPresetParameters({ registryPrefix: prefix, tag: options.tag, automerge: options.automerge })
}

/** Render every preset and validate each with Renovate's own validator; any error stops everything. */
export async function renderValidatedPresets(options: PresetOptions): Promise<ValidatedPresets> {
  const parameters = checkPresetOptions(options)
  const rendered = renderAllPresets(parameters)
  const files = PRESET_NAMES.map((name) => {
    const config = rendered[name]
    return { name, file: `${name}.json`, config, content: `${JSON.stringify(config, null, 2)}\n` }
  })
  const warnings = await validatePresetFiles(files)
  return { parameters, files, warnings }
}

/**
 * Validate preset files as Renovate would read them. Errors throw one UserError listing each as
 * `file: option: message`; warnings are returned.
 */
export async function validatePresetFiles(files: Array<{ file: string; config: unknown }>): Promise<Issue[]> {
  // A preset others extend must pass Renovate itself; the shipped schema alone is not enough to publish it.
  requireInstalled('renovate', 'presets build and publish (every preset is checked with Renovate’s own validator)')
  const errors: Issue[] = []
  const warnings: Issue[] = []
  for (const { file, config } of files) {
    const result = await validateRenovateConfig(config, { file, isPreset: true })
    errors.push(...result.errors)
    warnings.push(...result.warnings)
  }
  if (errors.length > 0) {
    throw new UserError(
      `Renovate rejects ${errors.length === 1 ? 'a preset option' : `${errors.length} preset options`}:\n${errors
        .map((issue) => `  ${describeIssue(issue)}`)
        .join('\n')}`,
      { code: 'invalid-preset', hint: 'Fix the options named above; nothing was written or published.' },
    )
  }
  return warnings
}

/**
 * `presets build`: write default.json and the named presets into `out`. All are rendered and validated before the
 * first byte is written, and each file is replaced atomically, so a failure leaves the directory as it was.
 */
export async function buildPresets(
  options: PresetOptions & { out: string; dryRun?: boolean },
): Promise<BuildPresetsResult> {
  const out = resolve(options.out)
  const { parameters, files, warnings } = await renderValidatedPresets(options)
  const statuses = await Promise.all(
    files.map(async (file) => {
      const path = join(out, file.file)
      const current = await readFile(path, 'utf8').catch(() => undefined)
      const status: 'created' | 'updated' | 'unchanged' =
        current === undefined ? 'created' : current === file.content ? 'unchanged' : 'updated'
      return { name: file.name, path, status, content: file.content }
    }),
  )
  if (!options.dryRun) {
    try {
      await mkdir(out, { recursive: true })
    } catch (cause) {
      throw new UserError(`cannot create ${out}: ${(cause as Error).message}`, { cause })
    }
    const staged: Array<{ temp: string; path: string }> = []
    try {
      for (const file of statuses.filter((f) => f.status !== 'unchanged')) {
        const temp = join(out, `.${file.name}.json.${randomBytes(4).toString('hex')}.tmp`)
        await writeFile(temp, file.content)
        staged.push({ temp, path: file.path })
      }
    } catch (cause) {
      await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })))
      throw new UserError(`cannot write presets to ${out}: ${(cause as Error).message}`, { cause })
    }
    for (const { temp, path } of staged) await rename(temp, path)
  }
  return {
    out,
    dryRun: options.dryRun ?? false,
    parameters,
    files: statuses.map(({ name, path, status }) => ({ name, path, status })),
    warnings,
  }
}

/** Read preset files a user built (and maybe edited) from a directory: every shipped name must be there. */
export async function readPresetDirectory(
  dir: string,
): Promise<Array<{ name: PresetName; file: string; config: unknown; content: string }>> {
  return Promise.all(
    PRESET_NAMES.map(async (name) => {
      const path = join(resolve(dir), `${name}.json`)
      let content: string
      try {
        content = await readFile(path, 'utf8')
      } catch (cause) {
        throw new UsageError(
          `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message}`,
          {
            hint: `Run \`konflux-gitops presets build --out ${dir}\` first; it writes ${PRESET_NAMES.map((n) => `${n}.json`).join(', ')}.`,
          },
        )
      }
      let config: unknown
      try {
        config = JSON.parse(content)
      } catch (cause) {
        throw new UsageError(`${path}: not valid JSON (${(cause as Error).message})`, {
          hint: 'Fix the JSON syntax, or rebuild the file with `konflux-gitops presets build`.',
        })
      }
      return { name, file: `${name}.json`, config, content }
    }),
  )
}
