/** notifyUpdaters through the real GitHub client (Octokit) against the local fake of GitHub's REST API. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createGitHubClient } from '../../src/github/index.js'
import { DISPATCH_EVENT_TYPE, githubNotifier, type MovedImage, notifyUpdaters } from '../../src/notify/index.js'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'

let fake: GitHubFake
beforeAll(async () => {
  fake = await startGitHubFake()
})
afterAll(async () => {
  await fake?.stop()
})

const github = async () => githubNotifier(await createGitHubClient({ token: fake.token, apiUrl: fake.url, env: {} }))
const image = (component: string, n: number): MovedImage => ({
  repository: `quay.io/acme/shop/${component}`,
  tag: 'released',
  digest: `sha256:${String(n).repeat(64)}`,
  snapshot: 'shop-20261124-091500',
  component,
})
const DASHBOARD =
  '## Detected dependencies\n\n---\n\n- [ ] <!-- manual job -->Check this box to trigger a request for Renovate to run again on this repository\n'

function addDashboard(repository: string, body: string) {
  const repo = fake.state.repos.get(repository.toLowerCase()) ?? fake.addRepo(repository)
  const number = repo.nextNumber++
  repo.issues.push({ number, title: 'Dependency Dashboard', body, state: 'open', labels: [], user: 'renovate[bot]' })
  return repo.issues.find((i) => i.number === number)!
}

describe('notifyUpdaters', () => {
  test('dispatch: exactly one repository_dispatch per repository, naming every moved digest', async () => {
    fake.addRepo('acme/dispatch-gitops')
    const before = fake.state.dispatches.length
    const outcomes = await notifyUpdaters(
      [image('api', 1), image('web', 2)],
      [{ repository: 'acme/dispatch-gitops' }],
      await github(),
      { via: 'dispatch' },
    )
    expect(outcomes.map((o) => o.status)).toEqual(['dispatched'])
    const sent = fake.state.dispatches.slice(before)
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({
      repo: 'acme/dispatch-gitops',
      eventType: DISPATCH_EVENT_TYPE,
      payload: {
        snapshot: 'shop-20261124-091500',
        images: [
          { repository: 'quay.io/acme/shop/api', tag: 'released', digest: image('api', 1).digest, component: 'api' },
          { repository: 'quay.io/acme/shop/web', tag: 'released', digest: image('web', 2).digest, component: 'web' },
        ],
      },
    })
    expect(fake.state.violations).toEqual([])
  })

  test('dashboard: the run-again box is ticked once; a second release finds it ticked and writes nothing', async () => {
    const issue = addDashboard('acme/dash-gitops', DASHBOARD)
    const client = await github()
    const first = await notifyUpdaters([image('api', 3)], [{ repository: 'acme/dash-gitops' }], client)
    expect(first.map((o) => o.status)).toEqual(['ticked'])
    expect(issue.body).toContain('- [x] <!-- manual job -->')
    const writes = fake.writes().length
    const second = await notifyUpdaters([image('api', 4)], [{ repository: 'acme/dash-gitops' }], client)
    expect(second.map((o) => o.status)).toEqual(['already-ticked'])
    expect(fake.writes().length).toBe(writes)
    expect(fake.state.violations).toEqual([])
  })

  test('no dashboard: one warning that dependencyDashboard is off and how to turn it on; Dependabot is named', async () => {
    fake.addRepo('acme/quiet-gitops')
    fake.addRepo('acme/dependabot-gitops', { files: { '.github/dependabot.yml': 'version: 2\nupdates: []\n' } })
    const warnings: string[] = []
    const outcomes = await notifyUpdaters(
      [image('api', 5), image('web', 6)],
      [{ repository: 'acme/quiet-gitops' }, { repository: 'acme/dependabot-gitops' }],
      await github(),
      { onWarning: (m) => warnings.push(m) },
    )
    expect(outcomes.map((o) => [o.repository, o.status])).toEqual([
      ['acme/quiet-gitops', 'no-dashboard'],
      ['acme/dependabot-gitops', 'unsupported'],
    ])
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/dependencyDashboard is off.*"dependencyDashboard": true/)
    expect(warnings[1]).toContain('Dependabot has no API that starts a run')
  })

  test('one repository failing does not stop the others, and says why without the token', async () => {
    fake.addRepo('acme/ok-gitops')
    const reader = fake.addUser('reader', { scopes: [] })
    const client = githubNotifier(await createGitHubClient({ token: reader.token, apiUrl: fake.url, env: {} }))
    fake.addRepo('acme/locked-gitops')
    const outcomes = await notifyUpdaters(
      [image('api', 7)],
      [{ repository: 'acme/locked-gitops' }, { repository: 'acme/missing-gitops' }],
      client,
      { via: 'dispatch' },
    )
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed'])
    expect(outcomes[0]?.message).toMatch(/403/)
    expect(outcomes[1]?.message).toMatch(/404|not found/i)
    expect(outcomes.map((o) => o.message).join('\n')).not.toContain(reader.token)
  })
})
