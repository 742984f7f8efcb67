/**
 * deploy/Containerfile, replayed without a container runtime (no buildah/podman here, and no registry pull): each
 * stage gets a folder standing in for its root file system; COPY copies from a clean checkout filtered by
 * .containerignore (or from the build stage's folder), RUN runs in bash with the Containerfile's absolute paths
 * mapped into the stage's folder, and npm works offline from the cache the checkout's own `npm ci` filled. The base
 * image's own steps (apt-get) are not replayed: they are checked to install what the image needs. Then the image's
 * file system is used as the image would be: konflux-gitops, kubectl and helm on its PATH.
 */
import { execFile, execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/cli.js'

const run = promisify(execFile)

interface Instruction {
  op: string
  args: string
}

/** Instructions with `\` continuations joined and comments dropped. */
function parseContainerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n\s*/g, ' ')
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/)
      return { op: op!.toUpperCase(), args: rest.join(' ') }
    })
}

/** .containerignore as glob prefixes: a path is left out when it or one of its parents matches. */
async function contextFiles(): Promise<string[]> {
  const ignore = (await readFile(join(ROOT, '.containerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
  const ignored = (path: string) =>
    path.split('/').some((_, i, parts) => {
      const prefix = parts.slice(0, i + 1).join('/')
      return ignore.some(
        (pattern) => prefix === pattern || (pattern.startsWith('*') && prefix.endsWith(pattern.slice(1))),
      )
    })
  return files.filter((f) => !ignored(f))
}

interface Replay {
  stages: Map<string, string>
  runtime: string
  final: { user?: string; entrypoint?: string; labels: Record<string, string>; apt: string[]; base: string }
}

async function replay(work: string): Promise<Replay> {
  const instructions = parseContainerfile(await readFile(join(ROOT, 'deploy', 'Containerfile'), 'utf8'))
  const context = await contextFiles()
  const args = new Map<string, string>()
  const stages = new Map<string, string>()
  let stageRoot = ''
  let cwd = '/'
  let index = 0
  const final: Replay['final'] = { labels: {}, apt: [], base: '' }
  const host = (path: string) => join(stageRoot, path.startsWith('/') ? path : join(cwd, path))
  // Absolute paths in a RUN line (after a space, quote, = or line start) go into the stage's folder.
  const mapRun = (command: string) => command.replace(/(^|[\s"'=])\/(src|app|opt|tmp|usr)\b/g, `$1${stageRoot}/$2`)
  const expand = (value: string) => value.replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '')
  for (const { op, args: rest } of instructions) {
    if (op === 'ARG') {
      const [name, value] = rest.split('=')
      args.set(name!, value ?? '')
    } else if (op === 'FROM') {
      const [image, , name] = rest.split(/\s+/)
      stageRoot = join(work, `stage-${index++}`)
      await mkdir(join(stageRoot, 'tmp'), { recursive: true })
      await mkdir(join(stageRoot, 'usr', 'local', 'bin'), { recursive: true })
      stages.set(name ?? `stage-${index}`, stageRoot)
      cwd = '/'
      final.base = expand(image!)
      final.labels = {}
      final.apt = []
    } else if (op === 'WORKDIR') {
      cwd = rest
      await mkdir(host(rest), { recursive: true })
    } else if (op === 'COPY') {
      const parts = rest.split(/\s+/)
      const from = parts[0]!.startsWith('--from=') ? stages.get(parts.shift()!.slice('--from='.length))! : undefined
      const dest = parts.pop()!
      for (const source of parts) {
        if (from) {
          const target = dest.endsWith('/') ? join(host(dest), source.split('/').pop()!) : host(dest)
          await mkdir(dirname(target), { recursive: true })
          await cp(join(from, source), target, { recursive: true, verbatimSymlinks: true })
        } else {
          const selected = source === '.' ? context : context.filter((f) => f === source)
          expect(selected.length, `COPY ${source}: in the build context`).toBeGreaterThan(0)
          for (const file of selected) await cp(join(ROOT, file), join(host(dest), file), { recursive: true })
        }
      }
    } else if (op === 'RUN') {
      if (/^apt-get /.test(rest)) {
        final.apt.push(...(/install (?:-\S+ )*([^&]+)/.exec(rest)?.[1]?.trim().split(/\s+/) ?? []))
        continue
      }
      // The build has no network: npm answers from the cache the checkout's own `npm ci` filled.
      await run('bash', ['-euo', 'pipefail', '-c', mapRun(rest)], {
        cwd: host(cwd),
        env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
        maxBuffer: 64 * 1024 * 1024,
      })
    } else if (op === 'LABEL') {
      for (const m of rest.matchAll(/([\w.-]+)="([^"]*)"/g)) final.labels[m[1]!] = expand(m[2]!)
    } else if (op === 'USER') {
      final.user = rest
    } else if (op === 'ENTRYPOINT') {
      final.entrypoint = rest
    }
  }
  return { stages, runtime: stageRoot, final }
}

describe('deploy/Containerfile, replayed on a clean checkout', () => {
  let work: string
  let image: Replay
  const pkg = JSON.parse(execFileSync('cat', [join(ROOT, 'package.json')], { encoding: 'utf8' })) as {
    version: string
    license: string
    peerDependencies: Record<string, string>
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kg-containerfile-'))
    image = await replay(work)
  }, 600_000)
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('builds from a base pinned by tag and digest, labels itself, runs as a non-root user', () => {
    expect(image.final.base).toMatch(/^docker\.io\/library\/node:24[\w.-]*@sha256:[0-9a-f]{64}$/)
    expect(image.final.user).toMatch(/^[1-9]\d*$/)
    expect(image.final.labels).toMatchObject({
      'org.opencontainers.image.title': 'konflux-gitops',
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.licenses': pkg.license,
      'org.opencontainers.image.source': expect.stringMatching(/^https:\/\//),
    })
    expect(image.final.apt).toEqual(expect.arrayContaining(['git', 'ca-certificates']))
    expect(image.final.entrypoint).toBe('["node", "/app/bin/run.js"]')
  })

  it('holds production dependencies only: the Kubernetes client, no Renovate, no build tools', async () => {
    const modules = join(image.runtime, 'app', 'node_modules')
    const top = await readdir(modules)
    expect(top).not.toContain('renovate')
    for (const dev of ['typescript', 'vitest', 'esbuild', 'oclif', '@biomejs', 'node']) expect(top).not.toContain(dev)
    expect(await readdir(join(modules, '@kubernetes'))).toContain('client-node')
    const files = await readdir(join(image.runtime, 'app'))
    expect(files).not.toContain('src')
    expect(files).not.toContain('test')
  })

  it('runs konflux-gitops (init, validate --build with its kubectl), kubectl and helm from its PATH', async () => {
    const bin = join(image.runtime, 'usr', 'local', 'bin')
    // The replayed link points at /app inside the image: here, at the stage folder's app/.
    const cli = join(bin, 'konflux-gitops')
    await rm(cli)
    await symlink(join(image.runtime, 'app', 'bin', 'run.js'), cli)
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: work }
    const version = await run(cli, ['--version'], { env })
    expect(version.stdout).toContain(`konflux-gitops/${pkg.version} `)
    const repo = join(work, 'demo')
    await run(cli, ['init', repo, '--app', 'shop', '--component', 'api=quay.io/acme/shop/api'], { env })
    const validate = await run(cli, ['validate', repo, '--build', '--json'], { env }).catch((e) => e)
    const report = JSON.parse(validate.stdout) as { ok: boolean; findings: { rule: string }[] }
    expect(report.findings.map((f) => f.rule)).toEqual(['renovate-not-installed'])
    expect(report.ok).toBe(true)
    await run(join(bin, 'kubectl'), ['version', '--client'], { env })
    await run(join(bin, 'helm'), ['version', '--short'], { env })
  })
})
