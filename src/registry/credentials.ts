/**
 * Registry credentials from the files docker, podman and skopeo share: `auths` (base64 `auth`, `username`/`password`,
 * `identitytoken`), `credHelpers` and `credsStore` (run `docker-credential-<name> get`). Searched in the order
 * containers-auth.json(5) gives, first file with credentials for the registry wins: REGISTRY_AUTH_FILE or podman's
 * ${XDG_RUNTIME_DIR}/containers/auth.json, then ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, then docker's
 * $DOCKER_CONFIG/config.json (or ~/.docker/config.json), then the legacy ~/.dockercfg.
 * Credentials are returned to the caller only; nothing here logs or formats them into messages.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../cli/errors.js'

export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identity-token'; username: string | undefined; token: string }

export interface CredentialSourceOptions {
  /** One explicit auth file; when set, no other file is read. */
  dockerConfigPath?: string
  env?: NodeJS.ProcessEnv
}

interface AuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>
  credHelpers?: Record<string, string>
  credsStore?: string
}

/** Docker Hub's credentials live under its legacy index address. */
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']

/** An auth file to read; `legacy` is ~/.dockercfg, whose top level is the `auths` map itself. */
export interface AuthFile {
  path: string
  legacy?: boolean
}

export function authFileCandidates(options: CredentialSourceOptions): AuthFile[] {
  if (options.dockerConfigPath) return [{ path: options.dockerConfigPath }]
  const env = options.env ?? process.env
  const home = env.HOME ?? homedir()
  const files: AuthFile[] = []
  // The primary file: REGISTRY_AUTH_FILE replaces it. Without XDG_RUNTIME_DIR, podman uses /run/containers/<uid>.
  if (env.REGISTRY_AUTH_FILE) files.push({ path: env.REGISTRY_AUTH_FILE })
  else if (env.XDG_RUNTIME_DIR) files.push({ path: join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') })
  else if (process.platform === 'linux' && process.getuid) {
    files.push({ path: join('/run/containers', String(process.getuid()), 'auth.json') })
  }
  files.push({ path: join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json') })
  files.push({ path: join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json') })
  files.push({ path: join(home, '.dockercfg'), legacy: true })
  return files
}

/** `https://quay.io/v1/` → `quay.io`; keeps a repository path (podman allows per-repository entries). */
export function normaliseAuthKey(key: string): string {
  let value = key.replace(/^[a-z]+:\/\//i, '')
  value = value.replace(/\/v[12]\/?$/, '').replace(/\/+$/, '')
  if (DOCKER_HUB_KEYS.includes(key) || DOCKER_HUB_KEYS.includes(value)) return 'docker.io'
  return value
}

/** Most specific first: `quay.io/acme/shop/api`, `quay.io/acme/shop`, `quay.io/acme`, `quay.io`. */
function lookupKeys(registry: string, path: string | undefined): string[] {
  const keys: string[] = []
  if (path) {
    const parts = path.split('/')
    for (let n = parts.length; n > 0; n--) keys.push(`${registry}/${parts.slice(0, n).join('/')}`)
  }
  keys.push(registry)
  return keys
}

function fromEntry(entry: AuthEntry, file: string, key: string): Credentials | undefined {
  if (entry.identitytoken) {
    let username = entry.username
    if (!username && entry.auth) username = Buffer.from(entry.auth, 'base64').toString('utf8').split(':')[0]
    return { kind: 'identity-token', username, token: entry.identitytoken }
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) {
      throw new UsageError(`${file}: auths["${key}"].auth is not base64 of "username:password"`, {
        code: 'invalid-auth-file',
        hint: `Log in again (docker login ${key}) or fix the entry.`,
      })
    }
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password }
  return undefined
}

export type HelperRunner = (
  helper: string,
  serverUrl: string,
) => Promise<{ Username?: string; Secret?: string } | undefined>

/** `docker-credential-<helper> get` with the server on stdin; "not found" is no credentials, not an error. */
export const runCredentialHelper: HelperRunner = (helper, serverUrl) =>
  new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 20_000 }, (error, stdout) => {
      if (error) {
        if (/not found|no credentials/i.test(String(stdout)) || (error as { code?: unknown }).code === 1) {
          resolve(undefined)
          return
        }
        reject(
          new UsageError(`credential helper docker-credential-${helper} failed for ${serverUrl}`, {
            code: 'credential-helper-failed',
            hint: `Check that docker-credential-${helper} is installed and on PATH.`,
            cause: error,
          }),
        )
        return
      }
      try {
        resolve(JSON.parse(stdout))
      } catch {
        reject(new UsageError(`credential helper docker-credential-${helper} printed something that is not JSON`))
      }
    })
    child.stdin?.end(serverUrl)
  })

async function readConfig({ path: file, legacy }: AuthFile): Promise<DockerConfigFile | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new UsageError(`cannot read registry auth file ${file}: ${(error as Error).message}`, {
      code: 'invalid-auth-file',
    })
  }
  try {
    const parsed = JSON.parse(text) as DockerConfigFile
    return legacy ? { auths: parsed as Record<string, AuthEntry> } : parsed
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON: ${(error as Error).message}`, {
      code: 'invalid-auth-file',
      hint: 'Fix the file or point DOCKER_CONFIG / REGISTRY_AUTH_FILE at a valid one.',
    })
  }
}

/** Finds credentials for a registry (and repository path, for per-repository entries); cached per registry+path. */
export class CredentialStore {
  private readonly cache = new Map<string, Promise<Credentials | undefined>>()
  private configs: Promise<{ file: string; config: DockerConfigFile }[]> | undefined

  constructor(
    private readonly options: CredentialSourceOptions & { runHelper?: HelperRunner } = {},
    private readonly explicit?: (registry: string) => Credentials | undefined,
  ) {}

  get(registry: string, path?: string): Promise<Credentials | undefined> {
    const key = `${registry}/${path ?? ''}`
    let found = this.cache.get(key)
    if (!found) {
      found = this.lookup(registry, path)
      this.cache.set(key, found)
    }
    return found
  }

  private loadConfigs() {
    this.configs ??= (async () => {
      const out: { file: string; config: DockerConfigFile }[] = []
      for (const file of authFileCandidates(this.options)) {
        const config = await readConfig(file)
        if (config) out.push({ file: file.path, config })
      }
      return out
    })()
    return this.configs
  }

  private async lookup(registry: string, path: string | undefined): Promise<Credentials | undefined> {
    const explicit = this.explicit?.(registry)
    if (explicit) return explicit
    const runHelper = this.options.runHelper ?? runCredentialHelper
    const keys = lookupKeys(registry, path)
    for (const { file, config } of await this.loadConfigs()) {
      const helpers = new Map(Object.entries(config.credHelpers ?? {}).map(([k, v]) => [normaliseAuthKey(k), v]))
      const helper = helpers.get(registry)
      if (helper) {
        const found = await runHelper(helper, registry === 'docker.io' ? DOCKER_HUB_KEYS[0]! : registry)
        if (found?.Secret) return helperCredentials(found)
      }
      const auths = new Map(Object.entries(config.auths ?? {}).map(([k, v]) => [normaliseAuthKey(k), { k, v }]))
      for (const key of keys) {
        const entry = auths.get(key)
        if (!entry) continue
        const credentials = fromEntry(entry.v, file, entry.k)
        if (credentials) return credentials
      }
      if (config.credsStore) {
        const found = await runHelper(config.credsStore, registry === 'docker.io' ? DOCKER_HUB_KEYS[0]! : registry)
        if (found?.Secret) return helperCredentials(found)
      }
    }
    return undefined
  }
}

function helperCredentials(found: { Username?: string; Secret?: string }): Credentials {
  // Docker's convention: Username "<token>" means Secret is an identity (refresh) token.
  if (found.Username === '<token>') return { kind: 'identity-token', username: undefined, token: found.Secret! }
  return { kind: 'basic', username: found.Username ?? '', password: found.Secret! }
}
