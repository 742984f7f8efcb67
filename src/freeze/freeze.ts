import { execFile } from 'node:child_process'
import { gitEnvironment } from '../git/environment.js'
import {
  deliver,
  deliveryOf,
  notDelivered,
  type ProposedChange,
  type ProposeOptions,
  parseGitHubRepo,
} from '../git/index.js'
import { openGitOpsRepo } from '../repo/index.js'
import { type Freeze, planFreeze } from './plan.js'

/** The who, when and why of a new freeze, as a caller may give them. */
export interface FreezeAuthorship {
  /** Why (recorded with the freeze). */
  readonly reason?: string | undefined
  /** Who freezes; default the git author (user.name <user.email>). */
  readonly by?: string | undefined
  /** When; default now. */
  readonly now?: (() => Date) | undefined
}

export interface FreezeOptions extends ProposeOptions, FreezeAuthorship {
  readonly dir: string
  readonly env: string
  /** Lift the freeze instead. */
  readonly unfreeze?: boolean
  readonly onProgress?: (message: string) => void
}

export interface FreezeResult extends ProposedChange {
  env: string
  action: 'freeze' | 'unfreeze'
  /** The freeze in force after the command (null when unfrozen). */
  frozen: Freeze | null
  /** The freeze before it. */
  previous: Freeze | null
  /** Files the command changes (or would, under --dry-run); empty when there was nothing to do. */
  files: string[]
  updaterConfig: string | null
}

/** `user.name <user.email>` from git config, else the login name: the "who" of a freeze. */
export async function gitIdentity(dir: string): Promise<string> {
  const config = (key: string) =>
    new Promise<string>((done) =>
      execFile('git', ['config', '--get', key], { cwd: dir, env: gitEnvironment() }, (error, stdout) =>
        done(error ? '' : stdout.trim()),
      ),
    )
  const [name, email] = await Promise.all([config('user.name'), config('user.email')])
  if (name && email) return `${name} <${email}>`
  return name || email || process.env.USER || process.env.USERNAME || 'unknown'
}

/** A freeze starting now, by `by` or else the git identity; `reason` is left out when undefined. */
export async function newFreeze(dir: string, who: FreezeAuthorship): Promise<Freeze> {
  return {
    by: who.by ?? (await gitIdentity(dir)),
    at: (who.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(who.reason !== undefined ? { reason: who.reason } : {}),
  }
}

export function freezeMessage(env: string, freeze: Freeze | undefined, previous: Freeze | null): string {
  if (freeze) {
    return [
      `Freeze ${env}${freeze.reason ? `: ${freeze.reason}` : ''}`,
      '',
      `The updater leaves environment ${env} alone until \`konflux-gitops unfreeze --env ${env}\`.`,
      '',
      `Frozen-By: ${freeze.by}`,
      `Frozen-At: ${freeze.at}`,
      '',
    ].join('\n')
  }
  return [
    `Unfreeze ${env}`,
    '',
    `The updater proposes updates for environment ${env} again${previous ? ` (frozen by ${previous.by} at ${previous.at}${previous.reason ? `: ${previous.reason}` : ''})` : ''}.`,
    '',
  ].join('\n')
}

export async function freezeEnvironment(options: FreezeOptions): Promise<FreezeResult> {
  const command = options.unfreeze ? 'unfreeze' : 'freeze'
  if (options.github !== undefined) parseGitHubRepo(options.github)
  const { dir, readText } = await openGitOpsRepo(options.dir, { write: options.dryRun ? undefined : command })
  const freeze: Freeze | undefined = options.unfreeze
    ? undefined
    : await newFreeze(dir, { by: options.by, now: options.now, reason: options.reason || undefined })
  // A repeated freeze keeps who and when of the first one, and only changes the reason when given.
  const probe = planFreeze({ env: options.env, freeze: undefined, readText })
  const kept =
    freeze && probe.previous ? { ...probe.previous, ...(options.reason ? { reason: options.reason } : {}) } : freeze
  const plan = planFreeze({ env: options.env, freeze: kept, readText })
  const result: FreezeResult = {
    env: options.env,
    action: command,
    frozen: kept ?? null,
    previous: plan.previous,
    files: [...plan.files.keys()],
    updaterConfig: plan.updaterConfig,
    ...notDelivered(options.branch ?? null, options.dryRun),
  }
  if (plan.files.size === 0) return result
  const branch = options.branch ?? (options.github ? `konflux-gitops/${command}-${options.env}` : undefined)
  const delivered = await deliver({
    dir,
    files: plan.files,
    message: freezeMessage(options.env, kept, plan.previous),
    branch,
    ...deliveryOf(options),
    command,
    onProgress: options.onProgress,
  })
  return { ...result, ...delivered }
}
