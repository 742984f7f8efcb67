import { Args, Flags } from '@oclif/core'
import { UsageError } from './errors.js'

/**
 * Flag sets several commands share, so one flag means one thing (same name, description and default) everywhere.
 * Factories rather than constants: each command gets its own definition objects, as when it spelled them out.
 */

/** The GitOps repository argument of the commands that propose a change (freeze, rollback, promote...). */
export function repoDirArg() {
  return { dir: Args.string({ description: 'the GitOps repository (default: current folder)', default: '.' }) }
}

/** --branch, --push, --remote, --github, --github-api-url: how a change reaches git and GitHub (see commitChange). */
export function proposeChangeFlags(branchDescription: string) {
  return {
    branch: Flags.string({ description: branchDescription }),
    push: Flags.boolean({ description: 'push the branch to --remote' }),
    remote: Flags.string({ description: 'git remote to push to', default: 'origin' }),
    github: Flags.string({ description: 'OWNER/REPO: open a pull request with the change on GitHub' }),
    'github-api-url': Flags.string({ description: 'GitHub REST API URL (GitHub Enterprise)', env: 'GITHUB_API_URL' }),
  }
}

export function dryRunFlag() {
  return { 'dry-run': Flags.boolean({ description: 'print what would change and change nothing' }) }
}

/** The parsed proposeChangeFlags and dryRunFlag as the services' ProposeOptions. */
export function proposeOptions(flags: {
  branch?: string | undefined
  push: boolean
  remote: string
  github?: string | undefined
  'github-api-url'?: string | undefined
  'dry-run': boolean
}) {
  return {
    branch: flags.branch,
    push: flags.push,
    remote: flags.remote,
    github: flags.github,
    githubApiUrl: flags['github-api-url'],
    dryRun: flags['dry-run'],
  }
}

/** --tag and --automerge: the organisation's values the Renovate presets are filled with (presets build/publish). */
export function presetValueFlags() {
  return {
    tag: Flags.string({ description: 'the tag Konflux moves to a validated image', default: 'released' }),
    automerge: Flags.string({
      description: 'environments whose digest updates auto-merge ("none" for none)',
      multiple: true,
      delimiter: ',',
      default: ['dev'],
    }),
  }
}

/** --automerge as environment names: "none" (or an empty item) names none. */
export function automergeEnvironments(values: readonly string[]): string[] {
  return values.filter((env) => env !== 'none' && env !== '')
}

/** --push, --dry-run, --force of the commands that scaffold files (component/env add/remove, integration add). */
export function scaffoldFlags(forceDescription: string) {
  return {
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({ description: forceDescription, default: false }),
  }
}

/** The parsed scaffoldFlags as the scaffold services' options. */
export function scaffoldOptions(flags: { push: boolean; 'dry-run': boolean; force: boolean }) {
  return { push: flags.push, dryRun: flags['dry-run'], force: flags.force }
}

/** --args of the scaffold commands: NAME then the repo directory. */
export function nameAndDirArgs(nameDescription: string) {
  return {
    name: Args.string({ description: nameDescription, required: true }),
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
}

/**
 * --notify and --notify-via of the commands that tell GitOps repositories their images moved (release, releaser).
 * The wording and the order the choices are listed in stay each command's own: the help text is unchanged.
 */
export function notifyFlags(descriptions: {
  notify: string
  notifyVia: string
  notifyViaOptions: readonly ('dashboard' | 'dispatch')[]
}) {
  return {
    notify: Flags.string({ description: descriptions.notify, multiple: true }),
    'notify-via': Flags.string({
      description: descriptions.notifyVia,
      options: [...descriptions.notifyViaOptions],
      default: 'dashboard',
    }),
  }
}

/** --github-api-url, --github-app-id, --github-app-key-file: where and as whom the notify commands call GitHub. */
export function githubNotifyFlags(apiUrlDescription: string) {
  return {
    'github-api-url': Flags.string({ description: apiUrlDescription }),
    'github-app-id': Flags.string({
      description: 'notify as this GitHub App (installation token) instead of GITHUB_TOKEN',
      dependsOn: ['github-app-key-file'],
    }),
    'github-app-key-file': Flags.string({
      description: "the GitHub App's private key (.pem)",
      dependsOn: ['github-app-id'],
    }),
  }
}

/** The parsed githubNotifyFlags' App: both flags or none (oclif's dependsOn refuses one alone). */
export function githubAppOption(flags: {
  'github-app-id'?: string | undefined
  'github-app-key-file'?: string | undefined
}): { appId: string; privateKeyFile: string } | undefined {
  return flags['github-app-id'] && flags['github-app-key-file']
    ? { appId: flags['github-app-id'], privateKeyFile: flags['github-app-key-file'] }
    : undefined
}

export const DATABASE_URL_ENV = 'KONFLUX_GITOPS_DATABASE_URL'

/** --state DIR (SQLite, one replica) or --database-url (PostgreSQL, any number of replicas): where the journal is. */
export function journalFlags(stateDescription: string) {
  return {
    state: Flags.directory({ description: stateDescription }),
    'database-url': Flags.string({
      description: `PostgreSQL journal shared by replicas: postgres://USER:PASSWORD@HOST:PORT/DB (else ${DATABASE_URL_ENV}); the password is never logged`,
    }),
  }
}

/** The parsed journalFlags as a journal location; the environment's URL only when neither flag is given. */
export function journalLocation(
  flags: { state?: string | undefined; 'database-url'?: string | undefined },
  env: Record<string, string | undefined> = process.env,
): { stateDir: string } | { databaseUrl: string } {
  if (flags.state !== undefined && flags['database-url'] !== undefined) {
    throw new UsageError('pass --state DIR (SQLite) or --database-url URL (PostgreSQL), not both')
  }
  if (flags.state !== undefined) return { stateDir: flags.state }
  const url = flags['database-url'] ?? env[DATABASE_URL_ENV]
  if (url === undefined || url === '') {
    throw new UsageError(`no journal: pass --state DIR (SQLite) or --database-url URL, or set ${DATABASE_URL_ENV}`)
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError('--database-url must be a postgres:// or postgresql:// URL', {
      hint: 'For the embedded SQLite journal, pass --state DIR instead.',
    })
  }
  return { databaseUrl: url }
}
