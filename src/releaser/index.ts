export { type Allowlist, allowlistRegistries } from './allowlist.js'
export type { RegistryObserver, ReleaserConfig, ReleaserHandle, ReleaserSummary } from './daemon.js'
export { type RetagExecutor, RetagFailure, type RetagOutcome, type RetagRequest } from './executor.js'
export {
  type HistoryEntry,
  isNewer,
  JOURNAL_FILE,
  type Journal,
  type JournalLocation,
  openJournal,
  type PlannedRetag,
  type ReleaseRecord,
  type RetagState,
  redactDatabaseUrl,
  SCHEMA_VERSION,
} from './journal/index.js'
export type { KubeSourceOptions } from './kube-source.js'
export { type RetryResult, releaseHistory, retryReleases } from './service.js'
export { signatureMatches, signBody } from './webhook.js'

/** The daemon pulls in pino, prom-client and the registry client: loaded only when it starts. */
export async function startReleaser(
  config: import('./daemon.js').ReleaserConfig,
): Promise<import('./daemon.js').ReleaserHandle> {
  const { startReleaser: start } = await import('./daemon.js')
  return start(config)
}
