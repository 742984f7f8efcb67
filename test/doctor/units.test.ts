import { describe, expect, test } from 'vitest'
import { argoSources, canonicalRepoUrl, sameRepository } from '../../src/doctor/index.js'

describe('repository URL spellings', () => {
  test('ssh, scp-like and https spellings of one repository are the same', () => {
    const spellings = [
      'https://github.com/acme/shop-gitops.git',
      'https://github.com/acme/shop-gitops',
      'https://token@github.com/acme/shop-gitops.git/',
      'git@github.com:acme/shop-gitops.git',
      'ssh://git@github.com/acme/shop-gitops',
      'ssh://git@github.com:22/Acme/Shop-GitOps.git',
    ]
    for (const a of spellings) for (const b of spellings) expect(sameRepository(a, b), `${a} vs ${b}`).toBe(true)
    expect(canonicalRepoUrl('git@github.com:acme/shop-gitops.git')).toBe('github.com/acme/shop-gitops')
  })

  test('different owners, hosts, ports or paths are different repositories', () => {
    expect(sameRepository('https://github.com/acme/shop', 'https://github.com/other/shop')).toBe(false)
    expect(sameRepository('https://github.com/acme/shop', 'https://gitlab.com/acme/shop')).toBe(false)
    expect(sameRepository('ssh://git@git.example:2222/acme/shop', 'https://git.example/acme/shop')).toBe(false)
    expect(sameRepository('file:///srv/git/shop.git', '/srv/git/shop')).toBe(true)
    expect(sameRepository('file:///srv/git/shop.git', 'file:///srv/git/other.git')).toBe(false)
  })
})

describe('Argo CD sources', () => {
  test('list generator paths are expanded per element; git generator globs are kept as globs', () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: shop}
spec:
  generators:
    - list:
        elements: [{env: dev}, {env: prod}]
  template:
    spec:
      source: {repoURL: https://github.com/acme/shop.git, targetRevision: main, path: "environments/{{ .env }}"}
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: shop-git}
spec:
  generators:
    - git: {repoURL: https://github.com/acme/shop.git, revision: main, directories: [{path: environments/*}]}
  template:
    spec:
      source: {repoURL: https://github.com/acme/shop.git, targetRevision: main, path: "{{ .path.path }}"}
`
    const refs = argoSources('argocd/x.yaml', text)
    expect(refs[0]?.paths).toEqual([
      { path: 'environments/dev', glob: false },
      { path: 'environments/prod', glob: false },
    ])
    expect(refs[1]).toMatchObject({ revision: 'main', paths: [{ path: 'environments/*', glob: true }] })
    expect(refs[2]?.paths).toEqual([])
  })
})

describe('timeouts', () => {
  test('a registry that accepts connections and never answers fails its check after the timeout', async () => {
    const { createServer } = await import('node:net')
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { runDoctor } = await import('../../src/doctor/index.js')
    const sockets: import('node:net').Socket[] = []
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as import('node:net').AddressInfo).port
    const dir = await mkdtemp(join(tmpdir(), 'kg-doctor-timeout-'))
    try {
      await writeFile(
        join(dir, 'konflux-gitops.yaml'),
        `apiVersion: konflux-gitops.dev/v1alpha1\nkind: GitOpsRepo\napp: shop\nargocd: none\ncomponents:\n  - name: api\n    image: 127.0.0.1:${port}/acme/api\n`,
      )
      const started = Date.now()
      const report = await runDoctor(dir, {
        timeoutMs: 1_000,
        registry: { plainHttp: true, dockerConfigPath: join(dir, 'none.json') },
      })
      const line = report.checks.find((c) => c.link === 'registry')
      expect(line).toMatchObject({ status: 'fail', message: 'registry: no answer within 1 s' })
      expect(line?.fix).toContain('--timeout')
      expect(Date.now() - started).toBeLessThan(15_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
