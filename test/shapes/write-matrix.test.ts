/**
 * Every writing command on every repo shape (kustomize | helm) x (renovate | dependabot), through the real CLI and
 * real git. Each command is run four ways in a row, on the repo the previous commands left:
 *
 *   1. with a pre-commit hook that exits 1: exit 1 (commit-failed), work tree, index, HEAD and branches exactly as before;
 *   2. with a pre-commit hook that SIGKILLs the command while git commits: the run dies half-done;
 *   3. plainly: the interrupted change is rolled back and made again, committed once, nothing left behind
 *      (no .kg-tmp-* file, no journal, a clean tree);
 *   4. again, where the command is idempotent: nothing to do, no new commit.
 *
 * `integration add` writes the same scenario and pipeline on every shape (its deploy step is `render --build`).
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { pinStoreFor } from '../../src/pins/index.js'
import { repoReader } from '../../src/repo/index.js'
import { readSpec } from '../../src/spec/index.js'
import { type CliResult, ROOT, runCli, schemaErrors, withTempDir } from '../helpers/cli.js'

const run = promisify(execFile)
const SNAPSHOT = join(ROOT, 'test', 'fixtures', 'konflux', 'snapshot-passed.yaml')
const NEWER = `sha256:${'c'.repeat(64)}`
const IMAGES = 'quay.io/redhat-user-workloads/acme-tenant/shop'

const SHAPES = [
  { flavour: 'kustomize', updater: 'renovate' },
  { flavour: 'kustomize', updater: 'dependabot' },
  { flavour: 'helm', updater: 'renovate' },
  { flavour: 'helm', updater: 'dependabot' },
] as const

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir })
  return stdout.trim()
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Files under `dir` (not .git) whose name marks a temporary write. */
async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name === '.git') continue
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.includes('.kg-tmp-')) found.push(relative(dir, path))
    }
  }
  await walk(dir)
  return found
}

/** Everything a failed command must leave as it was: commit, branch, branches, index entries, work tree. */
async function repoState(dir: string) {
  const [head, branch, branches, index, status, diff, staged] = await Promise.all([
    git(dir, 'rev-parse', 'HEAD'),
    git(dir, 'symbolic-ref', '--short', 'HEAD'),
    git(dir, 'branch', '--list', '--format=%(refname:short)'),
    git(dir, 'ls-files', '--stage'),
    git(dir, 'status', '--porcelain', '--untracked-files=all'),
    git(dir, 'diff'),
    git(dir, 'diff', '--cached'),
  ])
  return { head, branch, branches, index, status, diff, staged, temps: await tempFiles(dir) }
}

/** Hooks directories handed to git through the environment, so they also reach the repo init creates. */
async function hooks(root: string) {
  const fail = join(root, 'hooks-fail')
  const kill = join(root, 'hooks-kill')
  await mkdir(fail, { recursive: true })
  await mkdir(kill, { recursive: true })
  await writeFile(join(fail, 'pre-commit'), '#!/bin/sh\necho "pre-commit: lint failed" >&2\nexit 1\n')
  // git's parent is the konflux-gitops process: kill it mid-commit, then let git abort the commit cleanly.
  await writeFile(
    join(kill, 'pre-commit'),
    "#!/bin/sh\nkill -9 $(awk '{print $4}' /proc/$PPID/stat)\nsleep 0.2\nexit 1\n",
  )
  await chmod(join(fail, 'pre-commit'), 0o755)
  await chmod(join(kill, 'pre-commit'), 0o755)
  const env = (path: string) => ({
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'core.hooksPath',
    GIT_CONFIG_VALUE_0: path,
  })
  return { fail: env(fail), kill: env(kill) }
}

/** Wait until git, orphaned by the SIGKILL, has finished and released the index. */
async function settled(dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!(await exists(join(dir, '.git', 'index.lock')))) return
    await new Promise((done) => setTimeout(done, 50))
  }
}

interface Cell {
  readonly command: string
  readonly args: string[]
  /** Running it a second time changes nothing (exit 0, no commit). */
  readonly idempotent: boolean
  /** The JSON schema of its result. */
  readonly schema: string
}

function cells(repo: string): Cell[] {
  return [
    {
      command: 'init',
      args: ['init', repo, '--component', `worker=${IMAGES}/worker`],
      idempotent: true,
      schema: 'init',
    },
    {
      command: 'component add',
      args: ['component', 'add', 'cart', repo, '--image', `${IMAGES}/cart`, '--port', '8081'],
      idempotent: true,
      schema: 'component add',
    },
    {
      command: 'component remove',
      args: ['component', 'remove', 'cart', repo],
      idempotent: false,
      schema: 'component remove',
    },
    { command: 'env add', args: ['env', 'add', 'qa', repo], idempotent: true, schema: 'env add' },
    { command: 'env remove', args: ['env', 'remove', 'qa', repo], idempotent: false, schema: 'env remove' },
    {
      command: 'integration add',
      args: ['integration', 'add', repo, '--repo-url', 'https://github.com/acme/shop-gitops.git'],
      idempotent: true,
      schema: 'integration add',
    },
    {
      command: 'freeze',
      args: ['freeze', repo, '--env', 'prod', '--reason', 'release week', '--by', 'alice'],
      idempotent: true,
      schema: 'freeze',
    },
    { command: 'unfreeze', args: ['unfreeze', repo, '--env', 'prod'], idempotent: true, schema: 'unfreeze' },
    {
      command: 'promote',
      args: ['promote', repo, '--from', 'dev', '--to', 'stage', '-c', 'api'],
      idempotent: true,
      schema: 'promote',
    },
    { command: 'rollback', args: ['rollback', repo, '--env', 'dev'], idempotent: false, schema: 'rollback' },
  ]
}

function expectCode(result: CliResult, exit: number, code?: string): void {
  expect(result.exitCode, `${result.stdout.slice(0, 2000)}\n${result.stderr}`).toBe(exit)
  if (code) expect(result.json).toMatchObject({ error: { code } })
}

describe.each(SHAPES)('every writing command on $flavour + $updater', ({ flavour, updater }) => {
  it('commits once; a failing hook changes nothing; a SIGKILLed run is finished by the next run', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      const hook = await hooks(tmp)
      const initArgs = ['init', repo, '--from-snapshot', SNAPSHOT, '--pin', '--flavour', flavour, '--updater', updater]

      // init on a new folder: a failed commit leaves no folder at all.
      const failed = await runCli([...initArgs, '--json'], { env: hook.fail })
      expectCode(failed, 1, 'commit-failed')
      expect((failed.json as { error: { message: string } }).error.message).toContain('pre-commit')
      expect(await exists(repo)).toBe(false)
      const killed = await runCli([...initArgs, '--json'], { env: hook.kill })
      expect(killed.exitCode).not.toBe(0)
      await settled(repo)
      const created = await runCli([...initArgs, '--json'])
      expectCode(created, 0)
      expect(await schemaErrors('init', created.json)).toEqual([])
      expect(await git(repo, 'rev-list', '--count', 'HEAD')).toBe('1')
      expect(await git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('')
      expect(await tempFiles(repo)).toEqual([])

      for (const cell of cells(repo)) {
        if (cell.command === 'promote') {
          // A newer digest reached dev, as the updater's merged pull request would leave it.
          const spec = (await readSpec(repo))!.spec
          for (const [path, text] of pinStoreFor(spec).write(spec, 'dev', repoReader(repo), {
            pins: new Map([['api', NEWER]]),
          })) {
            await writeFile(join(repo, path), text)
          }
          await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'dev: newer api')
        }
        const label = `${cell.command} on ${flavour}+${updater}`
        const before = await repoState(repo)

        const hooked = await runCli([...cell.args, '--json'], { env: hook.fail })
        expectCode(hooked, 1, 'commit-failed')
        expect(await repoState(repo), `${label}: failed hook`).toEqual(before)

        const interrupted = await runCli([...cell.args, '--json'], { env: hook.kill })
        expect(interrupted.exitCode, `${label}: killed`).not.toBe(0)
        await settled(repo)
        expect(await exists(join(repo, '.git', 'konflux-gitops-delivery.json')), `${label}: journal`).toBe(true)

        const done = await runCli([...cell.args, '--json'])
        expectCode(done, 0)
        expect(await schemaErrors(cell.schema, done.json), label).toEqual([])
        const result = done.json as { commit: string | null; branch: string | null }
        expect(result.commit, label).toMatch(/^[0-9a-f]{40}$/)
        expect(await git(repo, 'rev-parse', 'HEAD'), label).toBe(result.commit)
        expect(await git(repo, 'rev-list', '--count', `${before.head}..HEAD`), `${label}: one commit`).toBe('1')
        expect(await git(repo, 'status', '--porcelain', '--untracked-files=all'), `${label}: clean`).toBe('')
        expect(await tempFiles(repo), label).toEqual([])
        expect(await exists(join(repo, '.git', 'konflux-gitops-delivery.json')), label).toBe(false)

        if (cell.idempotent) {
          const head = await git(repo, 'rev-parse', 'HEAD')
          const again = await runCli([...cell.args, '--json'])
          expectCode(again, 0)
          expect((again.json as { commit: string | null }).commit, `${label}: again`).toBeNull()
          expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head)
        }
      }

      // What the commands did, read back through the shape's own pin store.
      const spec = (await readSpec(repo))!.spec
      expect(spec.components.map((c) => c.name)).toEqual(['api', 'web', 'worker'])
      expect(spec.environments.map((e) => e.name)).toEqual(['dev', 'stage', 'prod'])
      expect(spec.environments.find((e) => e.name === 'dev')?.frozen).toBeDefined()
      // integration add: the scenario and the pipeline it runs, on this shape as on every other.
      expect(spec.integrationTest).toBeDefined()
      const kind = async (path: string) => (parse(await readFile(join(repo, path), 'utf8')) as { kind: string }).kind
      expect(await kind('integration/integration-test-scenario.yaml')).toBe('IntegrationTestScenario')
      expect(await kind('integration/pipelines/deploy-and-test.yaml')).toBe('Pipeline')
      const pins = (env: string) =>
        pinStoreFor(spec)
          .read(spec, env, repoReader(repo))
          .find((p) => p.component === 'api')?.digest
      expect(pins('stage')).toBe(NEWER)
      expect(pins('dev')).toBe(pins('prod'))
      expect(pins('dev')).not.toBe(NEWER)
    })
  }, 300_000)
})

describe.each(SHAPES)('git refusals on $flavour + $updater', ({ flavour, updater }) => {
  it('a git identity git rejects, uncommitted edits to the files written, and a symlink out of the repo are refused before anything is written', async () => {
    await withTempDir(async (tmp) => {
      const repo = join(tmp, 'demo')
      expectCode(
        await runCli(['init', repo, '--from-snapshot', SNAPSHOT, '--pin', '--flavour', flavour, '--updater', updater]),
        0,
      )
      await git(repo, 'config', 'user.name', '.')
      let before = await repoState(repo)
      const identity = await runCli(['component', 'add', 'cart', repo, '--image', `${IMAGES}/cart`, '--json'])
      expectCode(identity, 1, 'git-identity')
      expect(await repoState(repo)).toEqual(before)
      await git(repo, 'config', '--unset', 'user.name')

      // An edit to a file the command rewrites is named and refused; an unrelated file does not stand in the way.
      const spec = (await readSpec(repo))!.spec
      const prodFile = 'konflux-gitops.yaml'
      const prodText = await readFile(join(repo, prodFile), 'utf8')
      await writeFile(join(repo, prodFile), `${prodText}# on-call note\n`)
      await writeFile(join(repo, 'notes.txt'), 'scratch\n')
      before = await repoState(repo)
      const dirty = await runCli(['freeze', repo, '--env', 'prod', '--json'])
      expectCode(dirty, 1, 'dirty-tree')
      expect((dirty.json as { error: { message: string } }).error.message).toContain(prodFile)
      expect((dirty.json as { error: { message: string } }).error.message).not.toContain('notes.txt')
      expect(await repoState(repo)).toEqual(before)
      await writeFile(join(repo, prodFile), prodText)
      expectCode(await runCli(['freeze', repo, '--env', 'dev']), 0)
      expect(await git(repo, 'status', '--porcelain')).toBe('?? notes.txt')

      // Ctrl-C while git commits (SIGINT to the command), and a temporary file of a run killed mid-write: the
      // next run rolls the half-done change back, removes the leftover and commits once.
      const interruptHooks = join(tmp, 'hooks-int')
      await mkdir(interruptHooks)
      await writeFile(
        join(interruptHooks, 'pre-commit'),
        "#!/bin/sh\nkill -INT $(awk '{print $4}' /proc/$PPID/stat)\nsleep 0.2\nexit 1\n",
      )
      await chmod(join(interruptHooks, 'pre-commit'), 0o755)
      const headBefore = await git(repo, 'rev-parse', 'HEAD')
      const interrupted = await runCli(['freeze', repo, '--env', 'stage', '--reason', 'demo day'], {
        env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.hooksPath', GIT_CONFIG_VALUE_0: interruptHooks },
      })
      expect(interrupted.exitCode).not.toBe(0)
      await settled(repo)
      const leftover = join(repo, 'konflux-gitops.yaml.kg-tmp-4194303-0badf00d')
      await writeFile(leftover, 'half written\n')
      expect(await git(repo, 'status', '--porcelain')).not.toBe('?? notes.txt')
      const finished = await runCli(['freeze', repo, '--env', 'stage', '--reason', 'demo day', '--json'])
      expectCode(finished, 0)
      expect(await git(repo, 'rev-list', '--count', `${headBefore}..HEAD`)).toBe('1')
      expect(await git(repo, 'status', '--porcelain')).toBe('?? notes.txt')
      expect(await tempFiles(repo)).toEqual([])

      // environments/prod made a link to a folder outside the repository: nothing is read into a diff or written.
      for (const [path, text] of pinStoreFor(spec).write(spec, 'dev', repoReader(repo), {
        pins: new Map([['api', NEWER]]),
      })) {
        await writeFile(join(repo, path), text)
      }
      const outside = join(tmp, 'elsewhere')
      await run('cp', ['-r', join(repo, 'environments', 'prod'), outside])
      await run('rm', ['-rf', join(repo, 'environments', 'prod')])
      await run('ln', ['-s', outside, join(repo, 'environments', 'prod')])
      await git(repo, 'add', '-A')
      await git(
        repo,
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@example.com',
        'commit',
        '-qm',
        'dev newer, prod elsewhere',
      )
      const outsideBefore = await run('sh', ['-c', `cat ${outside}/* ${outside}/*/* 2>/dev/null; true`])
      for (const args of [
        ['promote', repo, '--from', 'dev', '--to', 'prod', '--json'],
        ['promote', repo, '--from', 'dev', '--to', 'prod', '--dry-run', '--json'],
        ['component', 'add', 'cart', repo, '--image', `${IMAGES}/cart`, '--json'],
        ['component', 'add', 'cart', repo, '--image', `${IMAGES}/cart`, '--dry-run', '--json'],
      ]) {
        before = await repoState(repo)
        const refused = await runCli(args)
        expectCode(refused, 1, 'path-outside-repo')
        expect((refused.json as { error: { message: string } }).error.message).toContain('outside the repository')
        expect(refused.stdout).not.toContain('@@')
        expect(await repoState(repo)).toEqual(before)
      }
      expect((await run('sh', ['-c', `cat ${outside}/* ${outside}/*/* 2>/dev/null; true`])).stdout).toBe(
        outsideBefore.stdout,
      )
    })
  })
})
