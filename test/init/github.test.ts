import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { type GitHttpServer, startGitHttp } from '../harness/git-http.js'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { git } from './repo-checks.js'

const run = promisify(execFile)
const SHOP = ['--app', 'shop', '--component', 'api=quay.io/acme/shop/api']

/** GitHub's REST API is the OpenAPI-checked fake; its clone URLs point at real git over HTTPS (git http-backend). */
async function withGitHub<T>(fn: (fake: GitHubFake, server: GitHttpServer) => Promise<T>): Promise<T> {
  let fake: GitHubFake | undefined
  const server = await startGitHttp({ token: () => fake?.token ?? '' })
  fake = await startGitHubFake({ cloneUrlBase: server.url })
  try {
    return await fn(fake, server)
  } finally {
    await fake.stop()
    await server.stop()
  }
}

describe('init --github OWNER/REPO', () => {
  it('creates a private repo in the org, pushes over https with the token, and never stores the token', async () => {
    await withGitHub(async (fake, server) => {
      const bare = await server.createRepo('acme/shop-gitops')
      await withTempDir(async (tmp) => {
        const env = { ...server.env, GITHUB_TOKEN: fake.token, GH_TOKEN: '' }
        const args = ['--github', 'acme/shop-gitops', '--github-api-url', fake.url, '--json']
        const result = await runCli(['init', 'demo', ...SHOP, ...args], { cwd: tmp, env })
        expect(result.stderr).toBe('')
        expect(result.exitCode).toBe(0)
        expect(await schemaErrors('init', result.json)).toEqual([])
        const doc = result.json as { pushed: boolean; commit: string }
        expect(doc.pushed).toBe(true)
        expect(fake.state.violations).toEqual([])
        expect(fake.state.repos.get('acme/shop-gitops')?.private).toBe(true)
        expect(fake.writes().map((w) => `${w.method} ${w.path}`)).toEqual(['POST /orgs/acme/repos'])
        expect((await run('git', ['-C', bare, 'rev-parse', 'refs/heads/main'])).stdout.trim()).toBe(doc.commit)

        const dir = join(tmp, 'demo')
        const basic = Buffer.from(`x-access-token:${fake.token}`).toString('base64')
        for (const file of ['.git/config', 'konflux-gitops.yaml', 'argocd/applicationset.yaml']) {
          const text = await readFile(join(dir, file), 'utf8')
          expect(text).not.toContain(fake.token)
          expect(text).not.toContain(basic)
        }
        const cloneUrl = `${server.url}/acme/shop-gitops.git`
        expect(await git(dir, 'remote', 'get-url', 'origin')).toBe(cloneUrl)
        expect(await readFile(join(dir, 'konflux-gitops.yaml'), 'utf8')).toContain(`repoURL: ${cloneUrl}`)
        const pushes = server.requests.filter((r) => r.path.endsWith('git-receive-pack'))
        expect(pushes.length).toBeGreaterThan(0)
        for (const push of pushes) expect(push.authorization).toBe(`Basic ${basic}`)

        // A second run: the repository exists, nothing to commit, no new GitHub write.
        const again = await runCli(['init', 'demo', ...args], { cwd: tmp, env })
        expect(again.exitCode).toBe(0)
        expect((again.json as { commit: string | null }).commit).toBeNull()
        expect(fake.writes()).toHaveLength(1)
      })
    })
  })

  it.each([
    [401, 'Bad credentials'],
    [403, 'Resource not accessible by integration'],
  ])('a GitHub %i is one clear error and leaves nothing behind', async (status, message) => {
    await withGitHub(async (fake) => {
      fake.failNext({ path: /.*/, status, message, times: 10 })
      await withTempDir(async (tmp) => {
        const result = await runCli(
          ['init', 'demo', ...SHOP, '--github', 'acme/shop-gitops', '--github-api-url', fake.url],
          {
            cwd: tmp,
            env: { GITHUB_TOKEN: fake.token, GH_TOKEN: '' },
          },
        )
        expect(result.exitCode).toBe(1)
        expect(result.stderr).toMatch(/^Error: .+/)
        expect(result.stderr).toContain('Hint: ')
        expect(result.stderr).not.toContain(fake.token)
        await expect(readFile(join(tmp, 'demo', 'konflux-gitops.yaml'))).rejects.toThrow()
      })
    })
  })

  it('an organisation that does not exist (404) is named; no token or a bad OWNER/REPO is a usage error', async () => {
    await withGitHub(async (fake) => {
      await withTempDir(async (tmp) => {
        const missing = await runCli(
          ['init', 'demo', ...SHOP, '--github', 'nope/shop-gitops', '--github-api-url', fake.url],
          {
            cwd: tmp,
            env: { GITHUB_TOKEN: fake.token, GH_TOKEN: '' },
          },
        )
        expect(missing.exitCode).toBe(1)
        expect(missing.stderr).toContain('"nope"')
        const noToken = await runCli(['init', 'demo', ...SHOP, '--github', 'acme/x', '--github-api-url', fake.url], {
          cwd: tmp,
          env: { GITHUB_TOKEN: '', GH_TOKEN: '' },
        })
        expect(noToken.exitCode).toBe(2)
        expect(noToken.stderr).toContain('GITHUB_TOKEN')
        const writesBefore = fake.writes().length
        const incomplete = await runCli(
          ['init', 'demo', '--app', 'shop', '--github', 'acme/y', '--github-api-url', fake.url],
          {
            cwd: tmp,
            env: { GITHUB_TOKEN: fake.token, GH_TOKEN: '' },
          },
        )
        expect(incomplete.exitCode).toBe(2)
        expect(fake.writes()).toHaveLength(writesBefore)
        const bad = await runCli(['init', 'demo', ...SHOP, '--github', 'acme'], { cwd: tmp })
        expect(bad.exitCode).toBe(2)
        expect(bad.stderr).toContain('--github acme: expected OWNER/REPO')
      })
    })
  })
})
