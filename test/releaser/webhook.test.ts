import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createLogger } from '../../src/releaser/daemon.js'
import { openJournal, type ReleaserHandle, signBody, startReleaser } from '../../src/releaser/index.js'
import { loadPlanner } from '../../src/releaser/wiring.js'
import { ROOT } from '../helpers/cli.js'
import { MemoryExecutor } from './memory-executor.js'

const SECRET = 'webhook-secret-for-tests-3f9a1c'
const passed = await readFile(join(ROOT, 'test/fixtures/konflux/snapshot-passed.yaml'), 'utf8')
const failed = await readFile(join(ROOT, 'test/fixtures/konflux/snapshot-failed.yaml'), 'utf8')

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/snapshots`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml', 'x-signature-256': signBody(SECRET, body), ...headers },
    body,
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('releaser webhook', () => {
  let handle: ReleaserHandle
  let stateDir: string
  const registry = new MemoryExecutor()
  const logLines: string[] = []

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'kg-releaser-'))
    const logs = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean))
        done()
      },
    })
    handle = await startReleaser({
      journal: { stateDir },
      host: '127.0.0.1',
      port: 0,
      secret: Buffer.from(SECRET),
      bodyLimit: 64 * 1024,
      // The planner the daemon runs in production (`releaser` without --mapping).
      plan: await loadPlanner({ mappingFile: undefined, tags: [] }),
      createExecutor: async () => registry,
      worker: { pollMs: 20 },
      shutdownTimeoutMs: 1000,
      logger: createLogger('info', logs),
    })
  })
  afterAll(async () => {
    await handle.stop('test over')
    await rm(stateDir, { recursive: true, force: true })
  })

  it('answers 202 with an id, releases the Snapshot, and shows it at /v1/releases/{id}', async () => {
    const res = await post(handle.url, passed)
    expect(res.status).toBe(202)
    const id = String(res.body.id)
    let release: Record<string, unknown> = {}
    for (let i = 0; i < 100 && release.state !== 'released'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      release = (await (await fetch(`${handle.url}/v1/releases/${id}`)).json()) as Record<string, unknown>
    }
    expect(release).toMatchObject({ id, snapshot: 'shop-20261124-091500-123', state: 'released' })
    expect(registry.tags.get('quay.io/redhat-user-workloads/acme-tenant/shop/api:released')).toBe(
      'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c',
    )
    const duplicate = await post(handle.url, passed)
    expect(duplicate).toMatchObject({ status: 200, body: { id, duplicate: true } })
    const asJson = JSON.stringify(parse(passed))
    const sameAsJson = await post(handle.url, asJson, { 'content-type': 'application/json' })
    expect(sameAsJson).toMatchObject({ status: 200, body: { id, duplicate: true } })
    expect(registry.puts).toHaveLength(2)
  })

  it('refuses unsigned, wrongly signed, oversized, mistyped and invalid bodies, storing nothing', async () => {
    const other = passed.replace('shop-20261124-091500-123', 'shop-other')
    expect((await post(handle.url, other, { 'x-signature-256': '' })).status).toBe(401)
    expect((await post(handle.url, other, { 'x-signature-256': signBody('wrong-secret', other) })).status).toBe(401)
    expect((await post(handle.url, other, { 'x-signature-256': 'sha256=abc' })).status).toBe(401)
    expect((await post(handle.url, other, { 'content-type': 'text/plain' })).status).toBe(415)
    const big = `${other}\n# ${'x'.repeat(70 * 1024)}\n`
    expect((await post(handle.url, big)).status).toBe(413)
    const notYaml = await post(handle.url, '{"apiVersion": ')
    expect(notYaml.status).toBe(400)
    const gate = await post(handle.url, failed)
    expect(gate.status).toBe(422)
    expect(String(gate.body.error)).toContain('AppStudioTestSucceeded')
    const badImage = await post(handle.url, other.replace('quay.io/redhat-user-workloads', 'quay.io/Bad Repo'))
    expect(badImage.status).toBe(422)
    expect(String(badImage.body.error)).toContain('containerImage')
    // Names are held to Kubernetes/Konflux rules: no upper case, control characters or over-long labels.
    for (const [from, to] of [
      ['name: api', 'name: "api\\u001b[2J"'],
      ['name: api', `name: ${'a'.repeat(64)}`],
      ['namespace: acme-tenant', 'namespace: Acme_Tenant'],
    ]) {
      const renamed = await post(handle.url, other.replace(from!, to!))
      expect(renamed.status, to).toBe(422)
      expect(String(renamed.body.error)).toMatch(/is not a valid (Kubernetes )?name/)
      expect(String(renamed.body.error)).not.toContain('\u001b')
    }
    const unknown = await fetch(`${handle.url}/v1/releases/00000000-0000-0000-0000-000000000000`)
    expect(unknown.status).toBe(404)
    const health = await fetch(`${handle.url}/healthz`)
    expect(health.status).toBe(200)
  })

  it('retries a release over HTTP only with a signed request', async () => {
    const accepted = await post(handle.url, passed)
    const id = String(accepted.body.id)
    const unsigned = await fetch(`${handle.url}/v1/releases/${id}/retry`, { method: 'POST' })
    expect(unsigned.status).toBe(401)
    const retry = (target: string, body: string) =>
      fetch(`${handle.url}/v1/releases/${target}/retry`, {
        method: 'POST',
        headers: { 'x-signature-256': signBody(SECRET, body) },
        body,
      })
    const named = JSON.stringify({ id })
    const signed = await retry(id, named)
    expect(signed.status).toBe(202)
    expect(await signed.json()).toEqual({ id, retried: 0 })
    // The signature covers the release id: a signed retry of one release does not retry another.
    const other = (await post(handle.url, passed.replace('shop-20261124-091500-123', 'shop-retry-other'))).body.id
    const replayed = await retry(String(other), named)
    expect(replayed.status).toBe(400)
    expect((await retry(id, '')).status).toBe(400)
    const unknown = await retry('no-such-release', JSON.stringify({ id: 'no-such-release' }))
    expect(unknown.status).toBe(404)
  })

  it('is ready, exports Prometheus metrics, and never logs the secret', async () => {
    const ready = await fetch(`${handle.url}/readyz`)
    expect(ready.status).toBe(200)
    const metrics = await (await fetch(`${handle.url}/metrics`)).text()
    expect(metrics).toMatch(/konflux_gitops_releaser_webhook_events_total\{result="accepted"\} 2\n/)
    expect(metrics).toMatch(/konflux_gitops_releaser_webhook_events_total\{result="duplicate"\} 3\n/)
    expect(metrics).toMatch(/konflux_gitops_releaser_webhook_events_total\{result="401"\} 4/)
    expect(metrics).toMatch(/konflux_gitops_releaser_retags_total\{result="moved"\} 2/)
    expect(metrics).toContain('konflux_gitops_releaser_event_to_tag_seconds_bucket')
    expect(metrics).toContain('konflux_gitops_releaser_queue_depth 0')
    // The journal gauges are the journal's own counts.
    const journal = await openJournal({ stateDir }, { create: false })
    try {
      const counts = await journal.counts()
      for (const [state, n] of Object.entries(counts.events)) {
        expect(metrics).toContain(`konflux_gitops_releaser_journal_releases{state="${state}"} ${n}\n`)
      }
      for (const [state, n] of Object.entries(counts.retags)) {
        expect(metrics).toContain(`konflux_gitops_releaser_journal_retags{state="${state}"} ${n}\n`)
      }
      expect(counts.events.released).toBeGreaterThan(0)
    } finally {
      await journal.close()
    }
    expect(logLines.length).toBeGreaterThan(3)
    const moved = logLines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'tag moved')
    expect(moved).toMatchObject({ snapshot: 'shop-20261124-091500-123', component: 'api', digest: expect.any(String) })
    expect(logLines.join('\n')).not.toContain(SECRET)
  })
})
