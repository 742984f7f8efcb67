import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.js'
import { startRegistry, type TestRegistry } from '../harness/registry.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { snapshotYaml } from './snapshot-fixture.js'

describe('konflux-gitops release against docker-registry with token auth', () => {
  let reg: TestRegistry
  let proxy: FaultProxy
  const digests: Record<string, string> = {}
  let snapshot: string

  beforeAll(async () => {
    reg = await startRegistry({ tls: true, auth: 'token' })
    proxy = await startFaultProxy(reg)
    await reg.addAuthHost(proxy.host)
    digests.api = await reg.pushImage('acme-tenant/shop/api', 'build-1')
    digests.web = await reg.pushImage('acme-tenant/shop/web', 'build-1', { platforms: ['linux/amd64', 'linux/arm64'] })
    digests.worker = await reg.pushImage('acme-tenant/shop/worker', 'build-1', { format: 'docker' })
    snapshot = snapshotYaml(
      Object.entries(digests).map(([name, digest]) => ({
        name,
        containerImage: `${proxy.host}/acme-tenant/shop/${name}@${digest}`,
      })),
    )
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  test('releases three components (one multi-arch); a second run only HEADs, one per tag', async () => {
    const first = await runCli(
      ['release', '--snapshot', '-', '--tag', 'released', '--tag', '{{ git_short_sha }}', '--json'],
      {
        input: snapshot,
        env: reg.env,
      },
    )
    expect(first.stderr).not.toContain(reg.password!)
    expect(first.exitCode, first.stderr).toBe(0)
    expect(await schemaErrors('release', first.json)).toEqual([])
    const report = first.json as { summary: Record<string, number>; results: { status: string; target: string }[] }
    expect(report.summary).toMatchObject({ moved: 6, unchanged: 0, failed: 0 })
    for (const [name, digest] of Object.entries(digests)) {
      expect(await reg.resolveTag(`acme-tenant/shop/${name}`, 'released')).toBe(digest)
      expect(await reg.resolveTag(`acme-tenant/shop/${name}`, '4f2a9c0')).toBe(digest)
    }
    // The index is retagged whole: same bytes, same media type.
    const web = await reg.getManifest('acme-tenant/shop/web', 'released')
    expect(web?.digest).toBe(digests.web)
    expect(web?.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    const worker = await reg.getManifest('acme-tenant/shop/worker', 'released')
    expect(worker?.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')

    const before = proxy.requests.length
    const connectionsBefore = proxy.connections
    const tokensBefore = reg.tokenServer!.requests.length
    const second = await runCli(['release', '--snapshot', '-', '--tag', 'released', '--tag', '{{ git_short_sha }}'], {
      input: snapshot,
      env: reg.env,
    })
    expect(second.exitCode, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/0 moved, 6 already there, 0 failed/)
    const registryCalls = proxy.requests.slice(before)
    // One unauthenticated probe that learns the token realm, then exactly one HEAD per tag.
    const heads = registryCalls.filter((r) => r.status !== 401)
    expect(heads.map((r) => r.method)).toEqual(Array(6).fill('HEAD'))
    expect(registryCalls.length - heads.length).toBe(1)
    // One token per repository: pull and push asked for together, reused for every request there.
    expect(reg.tokenServer!.requests.length - tokensBefore).toBe(3)
    // Keep-alive, HEADs included (undici closes after a HEAD unless told not to): at most two TLS connections per
    // repository worked on in parallel (the next tag's HEAD runs ahead), fewer than the 7 requests.
    expect(proxy.connections - connectionsBefore).toBeLessThanOrEqual(6)
  })

  test('--dry-run reports what would move and writes nothing', async () => {
    const before = proxy.requests.length
    const result = await runCli(['release', '--snapshot', '-', '--tag', 'candidate', '--dry-run', '--json'], {
      input: snapshot,
      env: reg.env,
    })
    expect(result.exitCode, result.stderr).toBe(0)
    expect(await schemaErrors('release', result.json)).toEqual([])
    expect((result.json as { summary: Record<string, number> }).summary).toMatchObject({ wouldMove: 3, moved: 0 })
    expect(proxy.requests.slice(before).filter((r) => r.method !== 'HEAD' && r.method !== 'GET')).toEqual([])
    expect(await reg.resolveTag('acme-tenant/shop/api', 'candidate')).toBeUndefined()
  })

  test('a failed retag exits 1 with a per-tag report, and the re-run finishes it', async () => {
    proxy.faults.push({ method: 'PUT', path: /shop\/worker\/manifests\/rc$/, times: 100, respond: { status: 500 } })
    const failed = await runCli(['release', '--snapshot', '-', '--tag', 'rc', '--json'], {
      input: snapshot,
      env: reg.env,
      timeoutMs: 120_000,
    })
    expect(failed.exitCode).toBe(1)
    expect(await schemaErrors('release', failed.json)).toEqual([])
    const results = (
      failed.json as { results: { component: string; status: string; error: { message: string } | null }[] }
    ).results
    expect(results.map((r) => [r.component, r.status])).toEqual([
      ['api', 'moved'],
      ['web', 'moved'],
      ['worker', 'failed'],
    ])
    expect(results[2]!.error!.message).toMatch(/HTTP 500/)
    proxy.faults.length = 0
    const rerun = await runCli(['release', '--snapshot', '-', '--tag', 'rc'], { input: snapshot, env: reg.env })
    expect(rerun.exitCode, rerun.stderr).toBe(0)
    expect(rerun.stdout).toMatch(/1 moved, 2 already there, 0 failed/)
  })

  test('refuses a Snapshot whose tests failed, unless --force', async () => {
    const failedSnapshot = snapshotYaml(
      [{ name: 'api', containerImage: `${proxy.host}/acme-tenant/shop/api@${digests.api}` }],
      { passed: false },
    )
    const refused = await runCli(['release', '--snapshot', '-', '--tag', 'forced'], {
      input: failedSnapshot,
      env: reg.env,
    })
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toMatch(/not releasable[\s\S]*AppStudioTestSucceeded is False/)
    expect(await reg.resolveTag('acme-tenant/shop/api', 'forced')).toBeUndefined()
    const forced = await runCli(['release', '--snapshot', '-', '--tag', 'forced', '--force'], {
      input: failedSnapshot,
      env: reg.env,
    })
    expect(forced.exitCode, forced.stderr).toBe(0)
    expect(forced.stderr).toMatch(/--force/)
    expect(await reg.resolveTag('acme-tenant/shop/api', 'forced')).toBe(digests.api)
  })

  test('a mapping (whole ReleasePlan) promotes to other repositories with templated tags', async () => {
    await withTempDir(async (dir) => {
      const mapping = join(dir, 'releaseplan.yaml')
      await writeFile(
        mapping,
        [
          'apiVersion: appstudio.redhat.com/v1alpha1',
          'kind: ReleasePlan',
          'metadata: {name: shop}',
          'spec:',
          '  application: shop',
          '  data:',
          '    mapping:',
          '      defaults: {tags: [released]}',
          '      components:',
          `        - {name: api, repository: ${proxy.host}/acme-prod/api, tags: [released, "sha-{{ digest_sha }}"]}`,
          `        - {name: web, repository: ${proxy.host}/acme-prod/web}`,
        ].join('\n'),
      )
      const result = await runCli(['release', '--snapshot', '-', '--mapping', mapping, '--json'], {
        input: snapshot,
        env: reg.env,
      })
      expect(result.exitCode, result.stderr).toBe(0)
      expect(await schemaErrors('release', result.json)).toEqual([])
      const json = result.json as { results: { target: string }[]; skipped: { component: string }[] }
      expect(json.results.map((r) => r.target)).toEqual([
        `${proxy.host}/acme-prod/api:released`,
        `${proxy.host}/acme-prod/api:sha-${digests.api!.slice(7)}`,
        `${proxy.host}/acme-prod/web:released`,
      ])
      expect(json.skipped.map((s) => s.component)).toEqual(['worker'])
      expect(await reg.resolveTag('acme-prod/web', 'released')).toBe(digests.web)
      expect(await reg.resolveTag('acme-prod/api', `sha-${digests.api!.slice(7)}`)).toBe(digests.api)
    })
  })

  test('{{ labels.X }} and {{ timestamp }} read the image config from the registry', async () => {
    const digest = await reg.pushImage('acme-tenant/shop/labelled', 'build-1', {
      labels: { version: '2.0.1', 'org.opencontainers.image.created': '2026-11-20T08:00:00Z' },
    })
    const labelled = snapshotYaml([
      { name: 'labelled', containerImage: `${proxy.host}/acme-tenant/shop/labelled@${digest}` },
    ])
    const result = await runCli(
      ['release', '--snapshot', '-', '--tag', 'v{{ labels.version }}', '--tag', 'built-{{ timestamp }}', '--json'],
      {
        input: labelled,
        env: reg.env,
      },
    )
    expect(result.exitCode, result.stderr).toBe(0)
    expect((result.json as { results: { tag: string }[] }).results.map((r) => r.tag)).toEqual([
      'v2.0.1',
      `built-${Date.parse('2026-11-20T08:00:00Z') / 1000}`,
    ])
    expect(await reg.resolveTag('acme-tenant/shop/labelled', 'v2.0.1')).toBe(digest)
  })

  test('Konflux mapping semantics end to end: merged tags, per-component %F, zone-less build-date, incrementer', async () => {
    // build-date wins over the OCI label and the config's created; it has no zone, so it is UTC.
    const digest = await reg.pushImage('acme-tenant/shop/stamped', 'build-1', {
      labels: { 'build-date': '2026-11-20T23:30:00', 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
      created: '2025-01-01T00:00:00Z',
    })
    // The target already has v1.4-1 and v1.4-3: the incrementer gives v1.4-4.
    const old = await reg.pushImage('acme-prod/stamped', 'v1.4-1')
    await reg.moveTag('acme-prod/stamped', 'v1.4-3', old)
    await withTempDir(async (dir) => {
      const mapping = join(dir, 'mapping.yaml')
      await writeFile(
        mapping,
        [
          'defaults: {tags: [released], timestampFormat: "%s"}',
          'components:',
          `  - name: stamped`,
          `    repository: ${proxy.host}/acme-prod/stamped`,
          '    timestampFormat: "%F"',
          '    componentTags: [stable, released]',
          '    tags: ["built-{{ timestamp }}", "v1.4-{{ incrementer }}"]',
        ].join('\n'),
      )
      const resultFile = join(dir, 'result.json')
      const input = snapshotYaml([
        { name: 'stamped', containerImage: `${proxy.host}/acme-tenant/shop/stamped@${digest}` },
      ])
      const result = await runCli(
        ['release', '--snapshot', '-', '--mapping', mapping, '--json', '--result-file', resultFile],
        {
          input,
          env: { ...reg.env, TZ: 'America/Los_Angeles' },
        },
      )
      expect(result.exitCode, result.stderr).toBe(0)
      expect((result.json as { results: { tag: string }[] }).results.map((r) => r.tag)).toEqual([
        'built-2026-11-20',
        'released',
        'stable',
        'v1.4-4',
      ])
      expect(await reg.resolveTag('acme-prod/stamped', 'v1.4-4')).toBe(digest)
      const compact = JSON.parse(await readFile(resultFile, 'utf8')) as { images: { digest: string; tags: string[] }[] }
      expect(compact.images).toEqual([
        { component: 'stamped', digest, tags: expect.arrayContaining([`${proxy.host}/acme-prod/stamped:v1.4-4`]) },
      ])
    })
  })
})
