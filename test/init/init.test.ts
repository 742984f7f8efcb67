import { execFile } from 'node:child_process'
import { access, chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ROOT, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { SHOP_INIT_ARGS } from '../helpers/spec.js'
import { buildEnvironment, commitCount, git, type Loose, read, validateArgoObject } from './repo-checks.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const API_DIGEST = 'sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c'

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

describe('init: the issue example', () => {
  it('writes a committed repo whose overlays build with kustomize, and a second run changes nothing', async () => {
    await withTempDir(async (tmp) => {
      const first = await runCli(['init', 'demo', ...SHOP_INIT_ARGS, '--json'], { cwd: tmp })
      expect(first.stderr).toBe('')
      expect(first.exitCode, first.stderr + first.stdout).toBe(0)
      expect(await schemaErrors('init', first.json)).toEqual([])
      const result = first.json as Loose
      const repo = join(tmp, 'demo')
      expect(result.created).toEqual(
        expect.arrayContaining([
          'konflux-gitops.yaml',
          'README.md',
          'renovate.json',
          'components/api/base/deployment.yaml',
          'components/web/base/service.yaml',
          'environments/dev/kustomization.yaml',
          'environments/stage/kustomization.yaml',
          'environments/prod/kustomization.yaml',
          'argocd/applicationset.yaml',
          '.github/workflows/validate.yaml',
        ]),
      )
      expect(await exists(join(repo, 'components/api/base/service.yaml'))).toBe(false)
      expect(result.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(await git(repo, 'rev-parse', 'HEAD')).toBe(result.commit)
      expect(await git(repo, 'status', '--porcelain')).toBe('')
      expect(await git(repo, 'log', '-1', '--format=%s')).toBe(
        'konflux-gitops init: shop (components api, web; environments dev, stage, prod)',
      )

      for (const env of ['dev', 'stage', 'prod']) {
        const { objects } = await buildEnvironment(repo, env)
        expect(objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual([
          'Deployment/api',
          'Deployment/web',
          'Service/web',
        ])
        for (const o of objects) expect(o.object.metadata.namespace).toBe(`shop-${env}`)
        const images = objects
          .filter((o) => o.kind === 'Deployment')
          .map((o) => o.object.spec.template.spec.containers[0].image)
          .sort()
        expect(images).toEqual(['quay.io/acme/shop/api:released', 'quay.io/acme/shop/web:released'])
      }
      const appSet = validateArgoObject(await read(repo, 'argocd/applicationset.yaml'))
      expect(appSet.spec.generators[0].git.directories).toEqual([{ path: 'environments/*' }])

      // Engineer C's validate (kustomize build, schemas, Renovate config in-process) accepts the result.
      const validate = await runCli(['validate', '--json'], { cwd: repo })
      expect(validate.exitCode, validate.stdout).toBe(0)

      const renovate = JSON.parse(await read(repo, 'renovate.json'))
      expect(JSON.stringify(renovate)).toContain('quay.io/acme/shop/api')

      const second = await runCli(['init', 'demo', ...SHOP_INIT_ARGS, '--json'], { cwd: tmp })
      expect(second.exitCode, second.stderr + second.stdout).toBe(0)
      const again = second.json as Loose
      expect(again.created).toEqual([])
      expect(again.updated).toEqual([])
      expect(again.commit).toBeNull()
      expect(await commitCount(repo)).toBe(1)

      // Re-running with no flags reconciles from konflux-gitops.yaml alone.
      const bare = await runCli(['init'], { cwd: repo })
      expect(bare.exitCode, bare.stderr + bare.stdout).toBe(0)
      expect(bare.stdout).toContain('up to date')
      expect(await commitCount(repo)).toBe(1)
    })
  })

  it('--dry-run prints a unified diff and writes nothing', async () => {
    await withTempDir(async (tmp) => {
      const dry = await runCli(['init', 'demo', ...SHOP_INIT_ARGS, '--dry-run'], { cwd: tmp })
      expect(dry.exitCode, dry.stderr + dry.stdout).toBe(0)
      expect(dry.stdout).toContain('--- /dev/null\n+++ b/environments/dev/kustomization.yaml')
      expect(dry.stdout).toContain('+  - name: quay.io/acme/shop/web\n+    newTag: released')
      expect(dry.stdout).toContain('nothing written')
      expect(await readdir(tmp)).toEqual([])

      await runCli(['init', 'demo', ...SHOP_INIT_ARGS], { cwd: tmp })
      const head = await git(join(tmp, 'demo'), 'rev-parse', 'HEAD')
      const change = await runCli(
        ['init', 'demo', '--component', 'web=quay.io/acme/shop/web:9090', '--dry-run', '--json'],
        {
          cwd: tmp,
        },
      )
      expect(change.exitCode, change.stderr + change.stdout).toBe(0)
      expect(await schemaErrors('init', change.json)).toEqual([])
      const doc = change.json as Loose
      expect(doc.updated).toEqual(expect.arrayContaining(['components/web/base/service.yaml', 'konflux-gitops.yaml']))
      expect(doc.diff).toContain('-      port: 8080\n+      port: 9090')
      expect(await read(join(tmp, 'demo'), 'components/web/base/service.yaml')).toContain('port: 8080')
      expect(await git(join(tmp, 'demo'), 'rev-parse', 'HEAD')).toBe(head)
    })
  })
})

describe('init: reconcile, not overwrite', () => {
  it('keeps a generated file the user edited and reports it (exit 1) unless --force', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      await runCli(['init', 'demo', ...SHOP_INIT_ARGS], { cwd: tmp })
      const deployment = 'components/web/base/deployment.yaml'
      const edited = (await read(repo, deployment)).replace('replicas: 1', 'replicas: 3')
      await writeFile(join(repo, deployment), edited)

      // The spec does not change the file: the user's edit simply stays.
      const same = await runCli(['init', 'demo'], { cwd: tmp })
      expect(same.exitCode, same.stderr + same.stdout).toBe(0)
      expect(await read(repo, deployment)).toBe(edited)

      // The spec changes the file too: kept, reported, exit 1; the other files are still reconciled.
      const clash = await runCli(['init', 'demo', '--component', 'web=quay.io/acme/shop/web:9090', '--json'], {
        cwd: tmp,
      })
      expect(clash.exitCode, clash.stderr + clash.stdout).toBe(1)
      expect(await schemaErrors('init', clash.json)).toEqual([])
      expect((clash.json as Loose).conflicts).toEqual([
        { path: deployment, reason: 'edited since konflux-gitops wrote it, and the spec now changes it' },
      ])
      expect(await read(repo, deployment)).toBe(edited)
      expect(await read(repo, 'components/web/base/service.yaml')).toContain('port: 9090')
      expect(await git(repo, 'status', '--porcelain')).toBe(`M ${deployment}`)

      const human = await runCli(['init', 'demo'], { cwd: tmp })
      expect(human.exitCode, human.stderr + human.stdout).toBe(1)
      expect(human.stdout).toContain(`conflict  ${deployment}`)
      expect(human.stdout).toContain('--force')

      const forced = await runCli(['init', 'demo', '--force'], { cwd: tmp })
      expect(forced.exitCode, forced.stderr + forced.stdout).toBe(0)
      const now = await read(repo, deployment)
      expect(now).toContain('replicas: 1')
      expect(now).toContain('containerPort: 9090')
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })

  it('merges kustomization lists with the user’s entries, comments and pins', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      await runCli(['init', 'demo', ...SHOP_INIT_ARGS], { cwd: tmp })
      const path = 'environments/prod/kustomization.yaml'
      const pinned = `released@sha256:${'b'.repeat(64)}`
      const user = (await read(repo, path))
        .replace(
          'resources:\n',
          'resources:\n  # the team database, not managed by konflux-gitops\n  - database.yaml\n',
        )
        .replace(/(name: quay\.io\/acme\/shop\/api\n\s+newTag: )released/, `$1${pinned}`)
      await writeFile(join(repo, path), user)
      await writeFile(
        join(repo, 'environments/prod/database.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  ports:\n    - port: 5432\n',
      )
      await git(repo, 'add', '-A')
      await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'user: pin and db')

      const add = await runCli(
        ['component', 'add', 'worker', 'demo', '--image', 'quay.io/acme/shop/worker', '--json'],
        {
          cwd: tmp,
        },
      )
      expect(add.exitCode, add.stderr + add.stdout).toBe(0)
      expect(await schemaErrors('component add', add.json)).toEqual([])
      const merged = await read(repo, path)
      expect(merged).toContain('  # the team database, not managed by konflux-gitops\n  - database.yaml\n')
      expect(merged).toContain(`newTag: ${pinned}`)
      expect(merged).toMatch(/- \.\.\/\.\.\/components\/worker\/base\n/)
      expect(merged).toContain('- name: quay.io/acme/shop/worker\n    newTag: released')
      expect(merged).not.toMatch(/^\s+digest:/m)
      expect(await git(repo, 'log', '-1', '--format=%s')).toBe(
        'konflux-gitops: add component worker (quay.io/acme/shop/worker)',
      )
      const { objects } = await buildEnvironment(repo, 'prod')
      const images = objects
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.object.spec.template.spec.containers[0].image)
      expect(images).toContain(`quay.io/acme/shop/api:${pinned}`)
      expect(images).toContain('quay.io/acme/shop/worker:released')

      const remove = await runCli(['component', 'remove', 'api', 'demo', '--json'], { cwd: tmp })
      expect(remove.exitCode, remove.stderr + remove.stdout).toBe(0)
      expect(await schemaErrors('component remove', remove.json)).toEqual([])
      expect((remove.json as Loose).deleted).toEqual(
        expect.arrayContaining(['components/api/base/deployment.yaml', 'components/api/base/kustomization.yaml']),
      )
      expect(await exists(join(repo, 'components/api'))).toBe(false)
      const after = await read(repo, path)
      expect(after).not.toContain('quay.io/acme/shop/api')
      expect(after).not.toContain('components/api/base')
      expect(after).toContain('- database.yaml')
      await buildEnvironment(repo, 'dev')
      expect(await git(repo, 'status', '--porcelain')).toBe('')
    })
  })

  it('env add and env remove keep environments/, argocd/ and renovate.json in step', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      await runCli(
        ['init', 'demo', ...SHOP_INIT_ARGS, '--git-remote', 'https://git.example.com/acme/shop-gitops.git'],
        {
          cwd: tmp,
        },
      )
      const qa = await runCli(['env', 'add', 'qa', 'demo', '--auto-merge', '--json'], { cwd: tmp })
      expect(qa.exitCode, qa.stderr + qa.stdout).toBe(0)
      expect(await schemaErrors('env add', qa.json)).toEqual([])
      expect((qa.json as Loose).created).toEqual(['environments/qa/kustomization.yaml'])
      const { objects } = await buildEnvironment(repo, 'qa')
      expect(objects[0]!.object.metadata.namespace).toBe('shop-qa')
      expect(
        JSON.parse(await read(repo, 'renovate.json')).packageRules.flatMap((r: Loose) => r.matchFileNames ?? []),
      ).toContain('environments/qa/**')

      // A namespace of its own: the ApplicationSet lists every environment with its namespace and server.
      const perf = await runCli(
        ['env', 'add', 'perf', 'demo', '--namespace', 'perf', '--destination-server', 'https://perf.example.com:6443'],
        { cwd: tmp },
      )
      expect(perf.exitCode, perf.stderr + perf.stdout).toBe(0)
      const appSet = validateArgoObject(await read(repo, 'argocd/applicationset.yaml'))
      expect(appSet.spec.template.spec.source.repoURL).toBe('https://git.example.com/acme/shop-gitops.git')
      expect(appSet.spec.generators[0].list.elements).toContainEqual({
        env: 'perf',
        namespace: 'perf',
        server: 'https://perf.example.com:6443',
      })
      expect(appSet.spec.generators[0].list.elements).toContainEqual({
        env: 'dev',
        namespace: 'shop-dev',
        server: 'https://kubernetes.default.svc',
      })

      const removed = await runCli(['env', 'remove', 'perf', 'demo', '--json'], { cwd: tmp })
      expect(removed.exitCode, removed.stderr + removed.stdout).toBe(0)
      expect(await schemaErrors('env remove', removed.json)).toEqual([])
      expect((removed.json as Loose).deleted).toEqual(['environments/perf/kustomization.yaml'])
      expect(await exists(join(repo, 'environments/perf'))).toBe(false)
      expect(validateArgoObject(await read(repo, 'argocd/applicationset.yaml')).spec.generators[0].git).toBeDefined()

      const unknown = await runCli(['env', 'remove', 'nope', 'demo'], { cwd: tmp })
      expect(unknown.exitCode, unknown.stderr + unknown.stdout).toBe(2)
      expect(unknown.stderr).toContain('environment nope is not in konflux-gitops.yaml')
      expect(unknown.stderr).toContain('Hint: Environments: dev, stage, prod, qa')
    })
  })

  it('--argocd applications writes one Application per environment', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const result = await runCli(
        ['init', 'demo', ...SHOP_INIT_ARGS, '--argocd', 'applications', '--env', 'dev', '--env', 'prod'],
        {
          cwd: tmp,
        },
      )
      expect(result.exitCode, result.stderr + result.stdout).toBe(0)
      expect((await readdir(join(repo, 'argocd'))).sort()).toEqual(['dev.yaml', 'prod.yaml'])
      const prod = validateArgoObject(await read(repo, 'argocd/prod.yaml'))
      expect(prod.spec.source.path).toBe('environments/prod')
      expect(prod.spec.destination.namespace).toBe('shop-prod')
      expect(await exists(join(repo, 'environments/stage'))).toBe(false)
    })
  })
})

describe('init --from-snapshot', () => {
  it('derives app and components from a Snapshot file and pins its digests with --pin', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const result = await runCli(['init', 'demo', '--from-snapshot', SNAPSHOT, '--pin', '--json'], { cwd: tmp })
      expect(result.exitCode, result.stderr + result.stdout).toBe(0)
      const spec = await read(repo, 'konflux-gitops.yaml')
      expect(spec).toContain('app: shop')
      expect(spec).toContain('image: quay.io/redhat-user-workloads/acme-tenant/shop/api\n')
      const { objects } = await buildEnvironment(repo, 'stage')
      const api = objects.find((o) => o.name === 'api')!
      expect(api.object.spec.template.spec.containers[0].image).toBe(
        `quay.io/redhat-user-workloads/acme-tenant/shop/api:released@${API_DIGEST}`,
      )
    })
  })

  it('reads the Snapshot from stdin with -, and without --pin leaves newTag unpinned', async () => {
    await withTempDir(async (tmp) => {
      const result = await runCli(['init', 'demo', '--from-snapshot', '-'], {
        cwd: tmp,
        input: await readFile(SNAPSHOT, 'utf8'),
      })
      expect(result.exitCode, result.stderr + result.stdout).toBe(0)
      const dev = await read(join(tmp, 'demo'), 'environments/dev/kustomization.yaml')
      expect(dev).toContain('- name: quay.io/redhat-user-workloads/acme-tenant/shop/web\n    newTag: released\n')
    })
  })

  it('names the file and field of a broken Snapshot (exit 2, nothing written)', async () => {
    await withTempDir(async (tmp) => {
      const bad = join(tmp, 'bad.yaml')
      await writeFile(
        bad,
        (await readFile(SNAPSHOT, 'utf8')).replace(
          'containerImage: quay.io/redhat-user-workloads/acme-tenant/shop/api@',
          'containerImage: Quay.io//api@',
        ),
      )
      const result = await runCli(['init', 'demo', '--from-snapshot', bad], { cwd: tmp })
      expect(result.exitCode, result.stderr + result.stdout).toBe(2)
      expect(result.stderr).toContain(`${bad}: spec.components[0].containerImage`)
      expect(await exists(join(tmp, 'demo'))).toBe(false)
    })
  })
})

describe('init: bad input', () => {
  it.each([
    [
      ['--component', 'API=quay.io/acme/shop/api'],
      '--component API=quay.io/acme/shop/api: component name "API" must be a DNS-1123 label',
    ],
    [['--component', 'api=quay.io/acme/Shop/api'], '--component api=quay.io/acme/Shop/api: invalid image reference'],
    [['--component', 'api=quay.io/acme/shop/api:released'], 'has a tag or digest; give the repository only'],
    [
      ['--component', 'api=quay.io/acme/shop/api', '--env', 'Prod_1'],
      '--env Prod_1: environment name "Prod_1" must be a DNS-1123 label',
    ],
    [['--component', 'api'], '--component api: expected NAME=IMAGE[:PORT]'],
  ])('%j is a usage error naming the value (exit 2) and writes nothing', async (flags, message) => {
    await withTempDir(async (tmp) => {
      const result = await runCli(['init', 'demo', '--app', 'shop', ...flags], { cwd: tmp })
      expect(result.exitCode, result.stderr + result.stdout).toBe(2)
      expect(result.stderr).toContain(message)
      expect(result.stderr).toContain('Hint: ')
      expect(await exists(join(tmp, 'demo'))).toBe(false)
    })
  })

  it('refuses a directory inside another repository, and an existing repository that is not konflux-gitops', async () => {
    await withTempDir(async (tmp) => {
      const other = join(tmp, 'other')
      await mkdir(other)
      await git(other, 'init', '-q')
      await writeFile(join(other, 'main.go'), 'package main\n')
      await git(other, 'add', '-A')
      await git(other, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'code')

      const inside = await runCli(['init', 'other/gitops', ...SHOP_INIT_ARGS, '--json'], { cwd: tmp })
      expect(inside.exitCode, inside.stderr + inside.stdout).toBe(2)
      expect(await schemaErrors('error', inside.json)).toEqual([])
      expect((inside.json as Loose).error.message).toContain(`is inside the git repository ${other}`)
      expect(await exists(join(other, 'gitops'))).toBe(false)

      const foreign = await runCli(['init', 'other', ...SHOP_INIT_ARGS], { cwd: tmp })
      expect(foreign.exitCode, foreign.stderr + foreign.stdout).toBe(2)
      expect(foreign.stderr).toContain('without konflux-gitops.yaml: not a konflux-gitops repo')
      expect(foreign.stderr).toContain('--force')
      expect(await git(other, 'status', '--porcelain')).toBe('')

      const missing = await runCli(['component', 'add', 'x', 'nowhere', '--image', 'quay.io/a/b', '--json'], {
        cwd: tmp,
      })
      expect(missing.exitCode, missing.stderr + missing.stdout).toBe(2)
      expect((missing.json as Loose).error).toMatchObject({ code: 'not-a-konflux-gitops-repo' })
      expect((missing.json as Loose).error.message).toContain('nowhere does not exist')
      await mkdir(join(tmp, 'empty'))
      const noSpec = await runCli(['component', 'add', 'x', 'empty', '--image', 'quay.io/a/b'], { cwd: tmp })
      expect(noSpec.exitCode, noSpec.stderr + noSpec.stdout).toBe(2)
      expect(noSpec.stderr).toContain('has no konflux-gitops.yaml')
    })
  })

  it('a spec broken by hand is reported with file and field', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      await runCli(['init', 'demo', ...SHOP_INIT_ARGS], { cwd: tmp })
      const spec = (await read(repo, 'konflux-gitops.yaml')).replace('name: web', 'name: Web')
      await writeFile(join(repo, 'konflux-gitops.yaml'), spec)
      const result = await runCli(['init', 'demo'], { cwd: tmp })
      expect(result.exitCode, result.stderr + result.stdout).toBe(2)
      expect(result.stderr).toContain('konflux-gitops.yaml: components.1.name: component name must be a DNS-1123 label')

      // A generated YAML file broken by hand: named with line and column, nothing else touched.
      await writeFile(join(repo, 'konflux-gitops.yaml'), spec.replace('name: Web', 'name: web'))
      await writeFile(join(repo, 'environments/dev/kustomization.yaml'), 'resources:\n  - a\n - b\n')
      const broken = await runCli(['component', 'add', 'worker', 'demo', '--image', 'quay.io/acme/shop/worker'], {
        cwd: tmp,
      })
      expect(broken.exitCode, broken.stderr).toBe(2)
      expect(broken.stderr).toMatch(/environments\/dev\/kustomization\.yaml:3:\d+: /)
      await expect(read(repo, 'components/worker/base/deployment.yaml')).rejects.toThrow()
    })
  })
})

describe('init: git remotes', () => {
  it('pushes to a bare remote, and a rejected push keeps the local commit and says how to push later', async () => {
    await withTempDir(async (tmp) => {
      const remote = join(tmp, 'remote.git')
      await run('git', ['init', '-q', '--bare', remote])
      const ok = await runCli(
        ['init', 'demo', ...SHOP_INIT_ARGS, '--git-remote', `file://${remote}`, '--push', '--json'],
        {
          cwd: tmp,
        },
      )
      expect(ok.exitCode, ok.stderr + ok.stdout).toBe(0)
      const pushed = ok.json as Loose
      expect(pushed.pushed).toBe(true)
      expect(await git(remote, 'rev-parse', 'refs/heads/main')).toBe(pushed.commit)

      // The remote now refuses everything.
      await writeFile(join(remote, 'hooks', 'pre-receive'), '#!/bin/sh\necho "policy: pushes are frozen" >&2\nexit 1\n')
      await chmod(join(remote, 'hooks', 'pre-receive'), 0o755)
      const rejected = await runCli(['env', 'add', 'qa', 'demo', '--push', '--json'], { cwd: tmp })
      expect(rejected.exitCode, rejected.stderr + rejected.stdout).toBe(1)
      const doc = rejected.json as Loose
      expect(await schemaErrors('env add', doc)).toEqual([])
      expect(doc.pushed).toBe(false)
      expect(doc.pushError).toContain('policy: pushes are frozen')
      expect(doc.pushError).toContain(`git -C ${join(tmp, 'demo')} push -u origin main`)
      expect(await git(join(tmp, 'demo'), 'rev-parse', 'HEAD')).toBe(doc.commit)
      expect(await git(remote, 'rev-parse', 'refs/heads/main')).toBe(pushed.commit)

      const human = await runCli(['init', 'demo', '--push'], { cwd: tmp })
      expect(human.exitCode, human.stderr + human.stdout).toBe(1)
      expect(human.stdout).toContain('not pushed: git push failed: ')
    })
  })
})
