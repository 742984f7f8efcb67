import { afterAll, beforeAll, expect, test } from 'vitest'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'

let fake: GitHubFake

beforeAll(async () => {
  fake = await startGitHubFake()
})
afterAll(async () => {
  await fake?.stop()
})

const call = (method: string, path: string, body?: unknown, token = fake.token) =>
  fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

test('a request body that breaks the OpenAPI description is refused and recorded', async () => {
  fake.addRepo('acme/checked')
  const response = await call('POST', '/repos/acme/checked/pulls', { head: 'x', base: 7 })
  expect(response.status).toBe(422)
  expect(fake.state.violations.join('\n')).toMatch(/request pulls\/create: \/base must be string/)
  fake.state.violations.length = 0
})

test('an endpoint GitHub does not have is recorded', async () => {
  expect((await call('GET', '/repos/acme/checked/no-such-thing')).status).toBe(404)
  expect(fake.state.violations).toEqual([expect.stringContaining('no such operation')])
  fake.state.violations.length = 0
})

test('responses carry every field the description requires', async () => {
  const response = await call('GET', '/repos/acme/checked')
  const body = (await response.json()) as Record<string, unknown>
  expect(body).toMatchObject({ full_name: 'acme/checked', default_branch: 'main', owner: { login: 'acme' } })
  expect(body).toHaveProperty('forks_count')
  expect(fake.state.violations).toEqual([])
})

test('injected failures answer once, then the endpoint works again', async () => {
  fake.failNext({ method: 'GET', path: '/repos/acme/checked', status: 403, message: 'rate limited' })
  expect((await call('GET', '/repos/acme/checked')).status).toBe(403)
  expect((await call('GET', '/repos/acme/checked')).status).toBe(200)
})

test('private repositories are invisible to non-members; unknown tokens get 401', async () => {
  fake.addRepo('acme/secret', { private: true })
  const outsider = fake.addUser('outsider')
  expect((await call('GET', '/repos/acme/secret', undefined, outsider.token)).status).toBe(404)
  expect((await call('GET', '/repos/acme/secret', undefined, 'nope')).status).toBe(401)
})

test('repository dispatches and issue updates are recorded', async () => {
  expect(
    (await call('POST', '/repos/acme/checked/dispatches', { event_type: 'promote', client_payload: { env: 'prod' } }))
      .status,
  ).toBe(204)
  expect(fake.state.dispatches).toEqual([{ repo: 'acme/checked', eventType: 'promote', payload: { env: 'prod' } }])
  const created = await call('POST', '/repos/acme/checked/issues', { title: 'freeze prod', labels: ['konflux-gitops'] })
  expect(created.status, fake.state.violations.join('\n')).toBe(201)
  const updated = await call('PATCH', '/repos/acme/checked/issues/1', { state: 'closed' })
  expect(((await updated.json()) as { state: string }).state).toBe('closed')
  const listed = await call('GET', '/repos/acme/checked/issues?state=all&labels=konflux-gitops')
  expect(((await listed.json()) as unknown[]).length).toBe(1)
  expect(fake.state.violations).toEqual([])
})
