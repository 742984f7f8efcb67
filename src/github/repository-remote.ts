import { UsageError } from '../cli/errors.js'
import { createGitHubClient, tokenFromEnv } from './client.js'

const GITHUB_REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/

/** `--github OWNER/REPO` split, or a usage error naming the flag. */
export function parseRepositoryName(fullName: string): [owner: string, name: string] {
  const match = GITHUB_REPO.exec(fullName)
  if (!match) {
    throw new UsageError(`--github ${fullName}: expected OWNER/REPO`, { hint: 'For example --github acme/shop-gitops' })
  }
  return [match[1]!, match[2]!]
}

export interface RepositoryRemote {
  /** The clone URL to push to. */
  readonly remote: string
  /** How to authenticate the push without writing the credential into .git/config. */
  readonly pushAuth: { readonly extraConfig: readonly string[]; readonly redact: readonly string[] }
}

/**
 * `init --github OWNER/REPO`: make sure the repository exists (private unless asked otherwise, empty when created:
 * init pushes its own first commit), and build the push credentials as an `http.extraHeader` given on the command
 * line only, so the token never lands in .git/config, the spec or any message. Under dry-run nothing is created.
 */
export async function ensureRepositoryRemote(
  fullName: string,
  options: { dryRun?: boolean; private?: boolean; apiUrl?: string | undefined; progress?: (message: string) => void },
): Promise<RepositoryRemote> {
  const [owner, name] = parseRepositoryName(fullName)
  const client = await createGitHubClient({
    apiUrl: options.apiUrl,
    onNotice: (message) => options.progress?.(message),
  })
  let remote: string
  if (options.dryRun) {
    const found = await client.getRepository(owner, name)
    remote =
      found?.cloneUrl ??
      `${client.apiUrl.replace(/\/api\/v3\/?$/, '').replace('//api.github.com', '//github.com')}/${owner}/${name}.git`
  } else {
    const { repository, created } = await client.ensureRepository(owner, name, {
      private: options.private ?? true,
      autoInit: false,
      description: 'GitOps repository managed with konflux-gitops',
    })
    options.progress?.(`${created ? 'created' : 'using'} GitHub repository ${repository.fullName}`)
    remote = repository.cloneUrl
  }
  const token = tokenFromEnv() ?? ''
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
  return {
    remote,
    pushAuth: { extraConfig: [`http.extraHeader=Authorization: Basic ${basic}`], redact: [token, basic] },
  }
}
