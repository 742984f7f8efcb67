/**
 * A real Renovate lookup over the repository (`renovate --platform=local --dry-run=lookup`): nothing is written to
 * the repository or any remote; Renovate reports what it would propose. Runs Renovate's own CLI from node_modules
 * in a child process so its logger, globals and caches stay out of ours.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { RenovateProposal } from './types.js'

export interface HostRule {
  matchHost: string
  hostType?: string
  username?: string
  password?: string
  token?: string
  allowInternal?: boolean
}

export interface RenovateLookupOptions {
  /** Environment for Renovate (default: ours). Its RENOVATE_HOST_RULES, proxies and CA settings are kept. */
  env?: NodeJS.ProcessEnv
  /** Added to RENOVATE_HOST_RULES (registry credentials, allowInternal for loopback registries). Never logged. */
  hostRules?: HostRule[]
  timeoutMs?: number
}

export interface RenovateLookup {
  proposals: RenovateProposal[]
  /** Package files Renovate's kustomize manager read. */
  packageFiles: string[]
  /** Dependencies Renovate skipped, with its reason (e.g. invalid-dependency-specification). */
  skipped: { packageFile: string; depName: string; reason: string }[]
  /** Warnings and errors Renovate reported for the repository. */
  problems: string[]
}

interface ReportDep {
  depName?: string
  currentValue?: string
  currentDigest?: string
  skipReason?: string
  updates?: Array<{ updateType?: string; newDigest?: string; newValue?: string }>
}
interface Report {
  repositories?: Record<
    string,
    {
      problems?: Array<{ level: number; msg: string }>
      packageFiles?: Record<string, Array<{ packageFile: string; deps?: ReportDep[] }>>
    }
  >
}

function renovateCli(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('renovate/package.json')), 'dist', 'renovate.js')
}

function mergedHostRules(env: NodeJS.ProcessEnv, extra: HostRule[]): string | undefined {
  let existing: unknown[] = []
  try {
    const parsed = env.RENOVATE_HOST_RULES ? (JSON.parse(env.RENOVATE_HOST_RULES) as unknown) : []
    if (Array.isArray(parsed)) existing = parsed
  } catch {
    // Renovate itself reports an unparsable RENOVATE_HOST_RULES; ours are still added.
  }
  const all = [...existing, ...extra]
  return all.length > 0 ? JSON.stringify(all) : undefined
}

export async function renovateLookup(dir: string, options: RenovateLookupOptions = {}): Promise<RenovateLookup> {
  const work = await mkdtemp(join(tmpdir(), 'kg-doctor-renovate-'))
  const reportPath = join(work, 'report.json')
  const base = options.env ?? process.env
  const hostRules = mergedHostRules(base, options.hostRules ?? [])
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...(hostRules ? { RENOVATE_HOST_RULES: hostRules } : {}),
    RENOVATE_BASE_DIR: join(work, 'base'),
    RENOVATE_CACHE_DIR: join(work, 'cache'),
    RENOVATE_REPOSITORY_CACHE: 'disabled',
    RENOVATE_ONBOARDING: 'false',
    RENOVATE_REQUIRE_CONFIG: 'optional',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  }
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [renovateCli(), '--platform=local', '--dry-run=lookup', '--report-type=file', `--report-path=${reportPath}`],
        { cwd: dir, env, timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout) => {
          if (!error) return resolve()
          // Renovate's log lines carry the reason; host rules are masked by Renovate, but keep only messages.
          const reasons = stdout
            .split('\n')
            .map((line) => {
              try {
                const entry = JSON.parse(line) as { level?: number; msg?: string }
                return (entry.level ?? 0) >= 50 ? entry.msg : undefined
              } catch {
                return undefined
              }
            })
            .filter(Boolean)
          const why = error.killed ? 'timed out' : reasons.slice(-2).join(' / ') || `exit ${error.code}`
          reject(new Error(`Renovate failed: ${why}`))
        },
      )
    })
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as Report
    const repo = Object.values(report.repositories ?? {})[0] ?? {}
    const proposals: RenovateProposal[] = []
    const skipped: RenovateLookup['skipped'] = []
    const files = Object.values(repo.packageFiles ?? {}).flat()
    for (const file of files) {
      for (const dep of file.deps ?? []) {
        const depName = dep.depName ?? '?'
        if (dep.skipReason) skipped.push({ packageFile: file.packageFile, depName, reason: dep.skipReason })
        for (const update of dep.updates ?? []) {
          proposals.push({
            packageFile: file.packageFile,
            depName,
            updateType: update.updateType ?? 'unknown',
            currentValue: dep.currentValue ?? null,
            currentDigest: dep.currentDigest ?? null,
            newDigest: update.newDigest ?? null,
            newValue: update.newValue ?? null,
          })
        }
      }
    }
    return {
      proposals,
      packageFiles: files.map((f) => f.packageFile).sort(),
      skipped,
      problems: (repo.problems ?? []).filter((p) => p.level >= 40).map((p) => p.msg),
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
