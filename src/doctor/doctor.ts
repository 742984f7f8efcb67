import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { UsageError } from '../cli/errors.js'
import { installHint, isInstalled } from '../cli/optional-dependency.js'
import { openRepo, remoteUrl } from '../git/index.js'
import type { RegistryClient, RegistryClientOptions } from '../registry/index.js'
import { type RepoSpec, readSpec } from '../spec/index.js'
import type { Finding } from '../validate/index.js'
import { checkArgoCd } from './check-argocd.js'
import { checkGit } from './check-git.js'
import { checkRegistry } from './check-registry.js'
import { checkSignatures } from './check-signatures.js'
import { checkUpdater } from './check-updater.js'
import type { HostRule, RenovateLookup } from './renovate-run.js'
import type { CheckLine, CheckResult, CheckStatus, DoctorContext, Link, RenovateProposal } from './types.js'

export interface DoctorOptions {
  /** Git remote Argo CD reads (default origin). */
  remote?: string
  /** Per check (default 20 s); the Renovate lookup gets its own. */
  timeoutMs?: number
  /** Run the real Renovate lookup (dry run) against the registry. */
  renovate?: boolean
  renovateTimeoutMs?: number
  registry?: RegistryClientOptions
  env?: NodeJS.ProcessEnv
  onProgress?: (message: string) => void
}

export interface DoctorReport {
  directory: string
  /** No check failed (warnings allowed). */
  ok: boolean
  counts: Record<CheckStatus, number>
  checks: CheckResult[]
  /** What the real Renovate lookup would propose (--renovate), else null. */
  renovate: { proposals: RenovateProposal[]; packageFiles: string[] } | null
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules'])

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/')
    if (path.split('/').some((part) => SKIPPED_DIRS.has(part))) continue
    out.push(path)
  }
  return out
}

class Timeout extends Error {}

async function timed(
  link: Link,
  id: string,
  title: string,
  timeoutMs: number,
  run: () => Promise<CheckLine[]>,
): Promise<CheckResult[]> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  let lines: CheckLine[]
  try {
    lines = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Timeout()), timeoutMs)
      }),
    ])
  } catch (error) {
    const timedOut = error instanceof Timeout
    const e = error as { message?: string; hint?: string }
    lines = [
      {
        id,
        link,
        status: 'fail',
        message: timedOut
          ? `${title}: no answer within ${Math.round(timeoutMs / 1000)} s`
          : `${title}: ${e.message ?? String(error)}`,
        fix: timedOut
          ? 'Check network access to the service named, or raise --timeout.'
          : (e.hint ?? 'See the message; run the check again with the service reachable.'),
      },
    ]
  } finally {
    clearTimeout(timer)
  }
  const durationMs = Math.round(performance.now() - started)
  return lines.map((line) => ({ ...line, durationMs }))
}

/** Registry credentials Renovate needs for the components' registries, from the user's docker config. */
async function hostRulesFor(spec: RepoSpec, client: RegistryClient): Promise<HostRule[]> {
  const { parseImageRef } = await import('../image-ref/index.js')
  const rules: HostRule[] = []
  const seen = new Set<string>()
  for (const component of spec.components) {
    const { registry, path } = parseImageRef(component.image)
    if (seen.has(registry)) continue
    seen.add(registry)
    const rule: HostRule = { matchHost: `https://${registry}`, hostType: 'docker' }
    const host = registry.replace(/:\d+$/, '')
    // Renovate refuses internal addresses unless told; a loopback registry (and its token realm, on another port)
    // is the user's own choice here.
    if (host === 'localhost' || host.startsWith('127.') || host === '[::1]') {
      rules.push({ matchHost: host, allowInternal: true })
    }
    const credentials = await client.transport.credentials.get(registry, path).catch(() => undefined)
    if (credentials?.kind === 'basic')
      Object.assign(rule, { username: credentials.username, password: credentials.password })
    else if (credentials?.kind === 'identity-token') Object.assign(rule, { token: credentials.token })
    if (credentials) rules.push(rule)
  }
  return rules
}

function renovateLine(spec: RepoSpec, lookup: RenovateLookup, pinFiles: string[]): CheckLine {
  const missing = pinFiles.filter((f) => !lookup.packageFiles.includes(f))
  const short = (d: string | null) => (d ? d.slice(0, 19) : '-')
  const proposals = lookup.proposals.map(
    (p) => `${p.depName} in ${p.packageFile}: ${p.updateType} ${short(p.currentDigest)} → ${short(p.newDigest)}`,
  )
  // A frozen environment expects no pull request: a proposal there means the freeze rule does not hold.
  const frozen = spec.environments.filter((env) => env.frozen).map((env) => `environments/${env.name}/`)
  const intoFrozen = lookup.proposals.filter((p) => frozen.some((dir) => p.packageFile.startsWith(dir)))
  if (intoFrozen.length > 0) {
    return {
      id: 'updater.renovate-lookup',
      link: 'updater',
      status: 'fail',
      message: `Renovate would propose updates in a frozen environment: ${intoFrozen.map((p) => `${p.depName} in ${p.packageFile}`).join('; ')}`,
      fix: 'Run `npx konflux-gitops freeze --env <env>` again: it rewrites the packageRules entry that turns Renovate off there.',
    }
  }
  if (missing.length > 0) {
    return {
      id: 'updater.renovate-lookup',
      link: 'updater',
      status: 'fail',
      message: `Renovate did not read ${missing.join(', ')}${lookup.problems.length ? ` (it reported: ${lookup.problems.slice(0, 2).join(' / ')})` : ''}`,
      fix: 'Make the config include those files (see updater.coverage), and check registry access for Renovate (hostRules).',
    }
  }
  // Deps the freeze rule disabled are what the freeze is for, not a skipped pin.
  const inFrozen = (file: string) => frozen.some((dir) => file.startsWith(dir))
  const skippedNow = lookup.skipped.filter((s) => !(s.reason === 'disabled' && inFrozen(s.packageFile)))
  if (skippedNow.length > 0 || lookup.problems.length > 0) {
    const skipped = skippedNow.map((s) => `${s.depName} in ${s.packageFile}: ${s.reason}`)
    return {
      id: 'updater.renovate-lookup',
      link: 'updater',
      status: 'warn',
      message: `Renovate skipped or warned: ${[...skipped, ...lookup.problems].slice(0, 4).join('; ')}`,
      fix: 'An entry Renovate skips is never updated: write `newTag: <tag>@sha256:<digest>` (no separate digest:), and give Renovate registry credentials.',
    }
  }
  return {
    id: 'updater.renovate-lookup',
    link: 'updater',
    status: 'ok',
    message:
      (lookup.proposals.length === 0
        ? `Renovate read ${lookup.packageFiles.length} file(s); every ${spec.tag} pin is current, nothing to propose`
        : `Renovate would propose ${lookup.proposals.length} update(s): ${proposals.join('; ')}`) +
      (frozen.length > 0
        ? `; nothing in frozen ${spec.environments
            .filter((env) => env.frozen)
            .map((env) => env.name)
            .join(', ')}`
        : ''),
    fix: null,
  }
}

/**
 * The read-only checklist of a user's loop: repo, registry, git, Argo CD, updater. Checks run concurrently, each
 * under a timeout; nothing is written anywhere.
 */
export async function runDoctor(dir: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory()) {
    throw new UsageError(`${dir} is not a directory`, { hint: 'Give the GitOps repository directory (default: .).' })
  }
  const timeoutMs = options.timeoutMs ?? 20_000
  const remote = options.remote ?? 'origin'
  const repo = openRepo(dir)
  const isRepo = await repo.isRepo()
  const files = isRepo ? await repo.listFiles() : await walk(dir)
  const texts = new Map<string, string | undefined>()
  const fileSet = new Set(files)
  // Read every file checks may ask for up front, so the pure checks can read synchronously.
  await Promise.all(
    files
      .filter((f) => /\.(ya?ml|json5?|jsonc)$/.test(f) || f.startsWith('.renovaterc'))
      .map(async (f) => texts.set(f, await readFile(join(dir, f), 'utf8').catch(() => undefined))),
  )
  const readText = (path: string) => (fileSet.has(path) || texts.has(path) ? texts.get(path) : undefined)

  const results: Promise<CheckResult[]>[] = []
  let spec: RepoSpec | undefined
  try {
    spec = (await readSpec(dir))?.spec
    if (!spec) {
      results.push(
        timed('repo', 'repo.spec', 'spec', timeoutMs, async () => [
          {
            id: 'repo.spec',
            link: 'repo',
            status: 'fail',
            message: `no konflux-gitops.yaml in ${dir}: the other checks need it`,
            fix: 'Run `npx konflux-gitops init` here, or run doctor in the GitOps repository.',
          },
        ]),
      )
    }
  } catch (error) {
    const e = error as { message: string; hint?: string }
    results.push(
      timed('repo', 'repo.spec', 'spec', timeoutMs, async () => [
        { id: 'repo.spec', link: 'repo', status: 'fail', message: e.message, fix: e.hint ?? null },
      ]),
    )
  }
  const ctx: DoctorContext = { dir, spec, remote, files, readText }
  const remoteUrlValue = isRepo ? await remoteUrl(dir, remote) : undefined

  const { createRegistryClient } = await import('../registry/index.js')
  // Few retries: doctor reports an unhealthy registry; it does not wait it out.
  const client = createRegistryClient({ retries: 1, maxRetryDelayMs: 2_000, ...options.registry })
  let lookup: RenovateLookup | undefined
  try {
    if (spec) {
      const validation = (async () => {
        const { validateRepository } = await import('../validate/index.js')
        return validateRepository(dir)
      })()
      validation.catch(() => {})
      const isUpdaterRule = (f: Finding) => f.rule.startsWith('renovate-') || f.rule.startsWith('dependabot-')
      results.push(
        timed('repo', 'repo.validate', 'validate', timeoutMs, async () => {
          const report = await validation
          const findings = report.findings.filter((f) => !isUpdaterRule(f))
          const errors = findings.filter((f) => f.severity === 'error')
          const warnings = findings.filter((f) => f.severity === 'warning')
          const first = errors[0] ?? warnings[0]
          return [
            {
              id: 'repo.validate',
              link: 'repo',
              status: errors.length ? 'fail' : warnings.length ? 'warn' : 'ok',
              message: first
                ? `validate: ${errors.length} error(s), ${warnings.length} warning(s); first: ${first.file}${first.line ? `:${first.line}` : ''} ${first.rule}: ${first.message}`
                : `spec and layout valid (${report.filesChecked} files, ${spec!.components.length} component(s), ${spec!.environments.length} environment(s))`,
              fix: first ? `${first.hint} (\`npx konflux-gitops validate\` lists every finding)` : null,
            },
          ]
        }),
        timed('registry', 'registry', 'registry', timeoutMs, () => checkRegistry(ctx, client)),
        timed('registry', 'registry.signed', 'signatures', timeoutMs, () => checkSignatures(ctx, client)),
        timed('git', 'git.remote', 'git remote', timeoutMs, () => checkGit(ctx, remoteUrlValue, isRepo, timeoutMs)),
        timed('argocd', 'argocd', 'Argo CD files', timeoutMs, () => checkArgoCd(ctx, remoteUrlValue)),
        timed('updater', 'updater.config', 'updater config', timeoutMs, async () => {
          const report = await validation.catch(() => undefined)
          return checkUpdater(ctx, report?.findings.filter(isUpdaterRule))
        }),
      )
      if (options.renovate && spec.updater === 'renovate' && !isInstalled('renovate')) {
        results.push(
          timed('updater', 'updater.renovate-lookup', 'Renovate lookup', timeoutMs, async () => [
            {
              id: 'updater.renovate-lookup',
              link: 'updater',
              status: 'fail',
              message: '--renovate runs the real Renovate lookup, and renovate is not installed',
              fix: installHint('renovate'),
            },
          ]),
        )
      } else if (options.renovate && spec.updater === 'renovate') {
        const { renovateLookup } = await import('./renovate-run.js')
        const { pinStoreFor } = await import('../pins/index.js')
        // A frozen environment's files may be left out by Renovate's disabled rule: expected there.
        const pinFiles = spec.environments
          .filter((env) => !env.frozen)
          .flatMap((env) => pinStoreFor(spec!).files(spec!, env.name))
        options.onProgress?.('running Renovate (dry run, lookup only)…')
        results.push(
          timed(
            'updater',
            'updater.renovate-lookup',
            'Renovate lookup',
            options.renovateTimeoutMs ?? 240_000,
            async () => {
              lookup = await renovateLookup(dir, {
                env: options.env ?? process.env,
                hostRules: await hostRulesFor(spec!, client),
                timeoutMs: options.renovateTimeoutMs ?? 240_000,
              })
              return [renovateLine(spec!, lookup, pinFiles)]
            },
          ),
        )
      } else if (options.renovate) {
        results.push(
          timed('updater', 'updater.renovate-lookup', 'Renovate lookup', timeoutMs, async () => [
            {
              id: 'updater.renovate-lookup',
              link: 'updater',
              status: 'warn',
              message: `--renovate asked, but this repository's updater is ${spec!.updater}`,
              fix: 'Drop --renovate, or set updater: renovate in konflux-gitops.yaml.',
            },
          ]),
        )
      }
    } else {
      results.push(
        timed('git', 'git.remote', 'git remote', timeoutMs, () => checkGit(ctx, remoteUrlValue, isRepo, timeoutMs)),
      )
    }
    const checks = (await Promise.all(results)).flat()
    const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 }
    for (const check of checks) counts[check.status]++
    return {
      directory: dir,
      ok: counts.fail === 0,
      counts,
      checks,
      renovate: lookup ? { proposals: lookup.proposals, packageFiles: lookup.packageFiles } : null,
    }
  } finally {
    // A check that timed out may leave a request hanging on a silent registry; close() would wait for it.
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      client
        .close()
        .then(() => true)
        .catch(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 500)
      }),
    ])
    clearTimeout(timer)
    if (!closed) await client.destroy()
  }
}
