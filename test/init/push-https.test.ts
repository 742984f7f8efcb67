import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitHttpServer, startGitHttp } from '../harness/git-http.js'
import { runCli, withTempDir } from '../helpers/cli.js'
import { git, read } from './repo-checks.js'

const run = promisify(execFile)
let server: GitHttpServer

beforeAll(async () => {
  server = await startGitHttp({ token: 'test-token-5f1c' })
})
afterAll(async () => {
  await server?.stop()
})

describe('init --push over https (git http-backend)', () => {
  it('pushes with the user’s git credentials, records the remote without them, and fails clearly without them', async () => {
    const bare = await server.createRepo('acme/shop-gitops')
    await withTempDir(async (tmp) => {
      const remote = `${server.url}/acme/shop-gitops.git`
      // No credentials: the server answers 401; git must not prompt, the commit stays local.
      const denied = await runCli(
        [
          'init',
          'demo',
          '--app',
          'shop',
          '--component',
          'api=quay.io/acme/shop/api',
          '--git-remote',
          remote,
          '--push',
          '--json',
        ],
        { cwd: tmp, env: { ...server.env, GIT_ASKPASS: '', SSH_ASKPASS: '' } },
      )
      expect(denied.exitCode).toBe(1)
      const doc = denied.json as { commit: string; pushed: boolean; pushError: string }
      expect(doc.pushed).toBe(false)
      expect(doc.pushError).toMatch(/git push failed: .*(Authentication failed|could not read Username)/)
      expect(doc.pushError).toContain('push it later with: git -C')
      expect(await git(join(tmp, 'demo'), 'rev-parse', 'HEAD')).toBe(doc.commit)

      // With a credential in the URL (as a user might give it), the push works and the URL is stored without it.
      const withToken = remote.replace('https://', 'https://x-access-token:test-token-5f1c@')
      const ok = await runCli(['init', 'demo', '--git-remote', withToken, '--push', '--json'], {
        cwd: tmp,
        env: server.env,
      })
      expect(ok.exitCode).toBe(0)
      expect((ok.json as { pushed: boolean }).pushed).toBe(true)
      const { stdout } = await run('git', ['-C', bare, 'rev-parse', 'refs/heads/main'])
      expect(stdout.trim()).toBe(await git(join(tmp, 'demo'), 'rev-parse', 'HEAD'))
      expect(await read(join(tmp, 'demo'), 'konflux-gitops.yaml')).toContain(`repoURL: ${remote}\n`)
      expect(await read(join(tmp, 'demo'), 'argocd/applicationset.yaml')).not.toContain('test-token')
      expect(server.requests.some((r) => r.path.endsWith('/git-receive-pack'))).toBe(true)
    })
  })
})
