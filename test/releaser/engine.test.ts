/**
 * The releaser's registry executor is the release engine: these run it against the real registry behind the fault
 * proxy, the way the daemon does (no test double for errors, lanes or Retry-After).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RetagFailure, type RetagRequest } from '../../src/releaser/index.js'
import { createRegistryExecutor } from '../../src/releaser/wiring.js'
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'

const observer = { onResponse: () => {} }

function request(host: string, path: string, digest: string, tag: string): RetagRequest {
  return {
    component: 'api',
    registry: host,
    source: `${host}/${path}@${digest}`,
    repository: `${host}/${path}`,
    tag,
    digest,
  }
}

describe('releaser executor = the release engine, against a real registry', () => {
  let registry: TestRegistry
  let proxy: FaultProxy
  beforeAll(async () => {
    registry = await startRegistry({ tls: false })
    proxy = await startFaultProxy(registry)
    // The daemon's client reads plain-HTTP registries from its environment, as in production.
    process.env.KONFLUX_GITOPS_PLAIN_HTTP = proxy.host
  })
  afterAll(async () => {
    delete process.env.KONFLUX_GITOPS_PLAIN_HTTP
    await proxy?.stop()
    await registry?.stop()
  })

  it('writes the tags of one repository one at a time (one lane per repository), several repositories at once', async () => {
    const api = await registry.pushImage('lanes/api', 'build')
    const web = await registry.pushImage('lanes/web', 'build')
    const executor = await createRegistryExecutor(observer)
    try {
      // All eight retags are handed over at once, as the worker does with different tags of one repository.
      proxy.requests.length = 0
      const signal = new AbortController().signal
      const tags = ['released', 'stable', 'latest', 'prod']
      const run = (path: string, digest: string) =>
        tags.map((tag) => executor.retag(request(proxy.host, path, digest, tag), signal))
      const outcomes = await Promise.all([...run('lanes/api', api), ...run('lanes/web', web)])
      expect(outcomes.map((o) => o.action)).toEqual(Array(8).fill('moved'))
      for (const tag of tags) expect(await registry.resolveTag('lanes/api', tag)).toBe(api)
      // Per repository, the request sequence is whole retags one after another: HEAD tag … PUT tag, then the next.
      for (const path of ['lanes/api', 'lanes/web']) {
        const sequence = proxy.requests
          .filter((r) => r.path.startsWith(`/v2/${path}/manifests/`) && !r.path.includes('sha256:'))
          .map((r) => `${r.method} ${r.path.split('/').at(-1)}`)
        expect(sequence).toHaveLength(tags.length * 2)
        for (let i = 0; i < sequence.length; i += 2) {
          const tag = sequence[i]!.split(' ')[1]
          expect([sequence[i], sequence[i + 1]]).toEqual([`HEAD ${tag}`, `PUT ${tag}`])
        }
      }
    } finally {
      await executor.close?.()
    }
  })

  it('passes the registry Retry-After and retryable flag of a real answer to the worker', async () => {
    const digest = await registry.pushImage('faults/api', 'build')
    const executor = await createRegistryExecutor(observer)
    try {
      proxy.faults.push({
        method: 'PUT',
        path: /manifests\/released$/,
        times: 10,
        respond: { status: 429, headers: { 'retry-after': '1' } },
      })
      const signal = new AbortController().signal
      const limited = await executor
        .retag(request(proxy.host, 'faults/api', digest, 'released'), signal)
        .catch((e) => e)
      expect(limited).toBeInstanceOf(RetagFailure)
      expect(limited).toMatchObject({ retryable: true, retryAfterMs: 1000, status: 429 })
      proxy.faults.length = 0

      const missing = `sha256:${'1'.repeat(64)}`
      const notFound = await executor
        .retag(request(proxy.host, 'faults/api', missing, 'released'), signal)
        .catch((e) => e)
      expect(notFound).toBeInstanceOf(RetagFailure)
      expect(notFound).toMatchObject({ retryable: false, status: 404, code: 'registry-not-found' })
    } finally {
      await executor.close?.()
    }
  }, 60_000)

  it('scrubs credential-shaped text out of registry error bodies before it reaches a message', async () => {
    const digest = await registry.pushImage('scrub/api', 'build')
    const executor = await createRegistryExecutor(observer)
    try {
      proxy.faults.push({
        method: 'PUT',
        path: /manifests\/released$/,
        times: 1,
        respond: {
          status: 400,
          body: JSON.stringify({
            errors: [
              {
                code: 'DENIED',
                message:
                  'request had Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb2JvdCJ9.c2lnbmF0dXJl and password=hunter22 \u001b[31m',
              },
            ],
          }),
        },
      })
      const failure = (await executor
        .retag(request(proxy.host, 'scrub/api', digest, 'released'), new AbortController().signal)
        .catch((e) => e)) as RetagFailure
      expect(failure).toBeInstanceOf(RetagFailure)
      expect(failure.retryable).toBe(false)
      expect(failure.message).toContain('DENIED')
      for (const secret of ['eyJhbGciOiJSUzI1NiJ9', 'c2lnbmF0dXJl', 'hunter22', '\u001b']) {
        expect(failure.message).not.toContain(secret)
      }
    } finally {
      await executor.close?.()
    }
  })
})
