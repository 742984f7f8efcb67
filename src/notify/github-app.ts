import { readFile } from 'node:fs/promises'
import { UsageError, UserError } from '../cli/errors.js'

export interface GitHubAppCredentials {
  appId: string
  /** PEM file of the App's private key. */
  privateKeyFile: string
}

/**
 * Installation tokens for a GitHub App (`--github-app-id`, `--github-app-key-file`), one per repository owner: the
 * App's JWT finds the installation on `owner/repo`, and @octokit/auth-app exchanges it for an installation token.
 * The key and tokens stay in memory; messages never contain them.
 */
export function githubAppTokens(
  app: GitHubAppCredentials,
  apiUrl: string | undefined,
): { tokenFor: (owner: string, repo: string) => Promise<string>; ready: () => Promise<void> } {
  let octokit: Promise<import('@octokit/rest').Octokit> | undefined
  const byOwner = new Map<string, Promise<string>>()
  const appOctokit = () => {
    octokit ??= (async () => {
      let privateKey: string
      try {
        privateKey = await readFile(app.privateKeyFile, 'utf8')
      } catch (error) {
        throw new UsageError(
          `--github-app-key-file ${app.privateKeyFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
          {
            hint: "Download the App's private key (a .pem file) from its settings page.",
          },
        )
      }
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
        throw new UsageError(`--github-app-key-file ${app.privateKeyFile}: not a PEM private key`, {
          hint: "Use the .pem file GitHub generated for the App's private key.",
        })
      }
      const [{ Octokit }, { createAppAuth }] = await Promise.all([import('@octokit/rest'), import('@octokit/auth-app')])
      return new Octokit({
        authStrategy: createAppAuth,
        auth: { appId: app.appId, privateKey },
        ...(apiUrl ? { baseUrl: apiUrl.replace(/\/+$/, '') } : {}),
        userAgent: 'konflux-gitops',
        log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      })
    })()
    return octokit
  }
  const tokenFor = (owner: string, repo: string): Promise<string> => {
    let token = byOwner.get(owner.toLowerCase())
    if (!token) {
      token = (async () => {
        const client = await appOctokit()
        try {
          const { data } = await client.rest.apps.getRepoInstallation({ owner, repo })
          const auth = (await client.auth({ type: 'installation', installationId: data.id })) as { token: string }
          return auth.token
        } catch (error) {
          const status = (error as { status?: number }).status
          throw new UserError(
            `GitHub App ${app.appId} cannot act on ${owner}/${repo}: ${status === 404 ? 'the App is not installed there' : status ? `GitHub answered ${status}` : (error as Error).message}`,
            {
              code: 'github-app',
              hint: 'Install the App on that repository (Contents read, Issues write for the dashboard, Contents write for dispatch), and check --github-app-id.',
            },
          )
        }
      })()
      byOwner.set(owner.toLowerCase(), token)
      token.catch(() => byOwner.delete(owner.toLowerCase()))
    }
    return token
  }
  // Reads and checks the key now, so a bad --github-app-key-file is a usage error before anything is released.
  return { tokenFor, ready: async () => void (await appOctokit()) }
}
