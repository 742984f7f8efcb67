import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { BIN, ROOT, runCli, withTempDir } from '../helpers/cli.js'

const UNBUNDLED = { KONFLUX_GITOPS_UNBUNDLED: '1' }

describe('the bundled @oclif/core (dist/oclif-core.cjs, loaded by bin/run.js)', () => {
  it('is built by npm run build, with no V8 code cache in dist/ (one is valid only for the Node that made it)', () => {
    expect(existsSync(join(ROOT, 'dist/oclif-core.cjs'))).toBe(true)
    expect(readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.v8cache'))).toEqual([])
  })

  it('writes its code cache for the running Node on the first run, and uses it after', async () => {
    await withTempDir(async (dir) => {
      const env = { NODE_COMPILE_CACHE: dir }
      const caches = () =>
        readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
          (f) => f.includes('oclif-core.cjs-') && f.endsWith('.v8cache'),
        )
      expect(caches()).toEqual([])
      expect((await runCli(['--help'], { env })).exitCode).toBe(0)
      const [cache] = caches()
      expect(cache).toContain(process.version)
      const written = statSync(join(dir, cache!)).mtimeMs
      expect((await runCli(['--help'], { env })).exitCode).toBe(0)
      // Taken, not rewritten: V8 accepted it.
      expect(statSync(join(dir, cache!)).mtimeMs).toBe(written)
    })
  })

  it.each([
    [['--help']],
    [['image', 'parse', '--help']],
    [['help', 'image', 'parse']],
    [['image', '--help']],
    [['image', 'parse', 'quay.io/Acme/app', '--json']],
    [['image', 'parse', 'nginx', '--flag-that-does-not-exist']],
    [['imag', 'parse', 'nginx']],
  ])('prints for %j exactly what the installed package prints', async (args) => {
    const [bundled, plain] = await Promise.all([runCli(args), runCli(args, { env: UNBUNDLED })])
    expect(bundled.stdout.length + bundled.stderr.length).toBeGreaterThan(0)
    expect({ ...bundled, json: undefined }).toEqual({ ...plain, json: undefined })
  })

  it('serves --help and a command run without loading any file of the installed @oclif/core', async () => {
    await withTempDir(async (dir) => {
      // Records every module Node loads (import and require) and prints the list at exit.
      const recorder = join(dir, 'record-loads.mjs')
      await writeFile(
        recorder,
        [
          "import { registerHooks } from 'node:module'",
          "import { writeSync } from 'node:fs'",
          'const loaded = []',
          'registerHooks({ load: (url, context, next) => (loaded.push(url), next(url, context)) })',
          "process.on('exit', () => writeSync(2, '\\nLOADED ' + JSON.stringify(loaded) + '\\n'))",
        ].join('\n'),
      )
      const oclifFiles = async (args: string[], env: Record<string, string> = {}) => {
        const { stderr } = await promisify(execFile)(
          process.execPath,
          ['--import', pathToFileURL(recorder).href, BIN, ...args],
          { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } },
        )
        const line = stderr.split('\n').find((l) => l.startsWith('LOADED '))
        expect(line, stderr).toBeDefined()
        const urls = JSON.parse(line!.slice('LOADED '.length)) as string[]
        return urls.filter((url) => url.includes('/node_modules/@oclif/core/'))
      }
      // The recorder sees the installed package when it is used: without that, an empty list would prove nothing.
      expect((await oclifFiles(['--help'], UNBUNDLED)).length).toBeGreaterThan(50)
      expect(await oclifFiles(['--help'])).toEqual([])
      expect(await oclifFiles(['image', 'parse', 'nginx', '--json'])).toEqual([])
    })
  })
})

describe('requireWithCodeCache (bin/code-cache.js)', () => {
  it('loads a CommonJS file, keeps its code cache, and ignores a cache it cannot use', async () => {
    await withTempDir(async (dir) => {
      type Loaded = { exports: Record<string, unknown>; cacheUsed: boolean; saveCodeCache: () => void }
      const { requireWithCodeCache } = (await import(pathToFileURL(join(ROOT, 'bin/code-cache.js')).href)) as {
        requireWithCodeCache: (file: string, options?: { cacheFile?: string }) => Loaded
      }
      const esm = join(dir, 'answer.mjs')
      await writeFile(esm, 'export const answer = 42\n')
      const file = join(dir, 'lib.cjs')
      const cacheFile = join(dir, 'lib.v8cache')
      await writeFile(
        file,
        [
          "const { basename } = require('node:path')",
          'exports.name = basename(__filename)',
          // The bundler turns oclif's import() calls into this; it must reach the normal module loader.
          'exports.load = async (url) => (await __importFromMain(url)).answer',
        ].join('\n'),
      )
      type Lib = { name: string; load: (url: string) => Promise<number> }

      const first = requireWithCodeCache(file, { cacheFile })
      expect((first.exports as Lib).name).toBe('lib.cjs')
      expect(await (first.exports as Lib).load(pathToFileURL(esm).href)).toBe(42)
      expect(first.cacheUsed).toBe(false)
      expect(existsSync(cacheFile)).toBe(false)
      first.saveCodeCache()
      expect(existsSync(cacheFile)).toBe(true)

      const cached = requireWithCodeCache(file, { cacheFile })
      expect(cached.cacheUsed).toBe(true)
      expect(await (cached.exports as Lib).load(pathToFileURL(esm).href)).toBe(42)

      // V8 keeps what this process compiled, whatever cache it is given: change the source so it must compile
      // again. A cache made for other source is rejected; so is one that is not a cache at all.
      await writeFile(file, `${await readFile(file, 'utf8')}\n// changed`)
      expect(requireWithCodeCache(file, { cacheFile }).cacheUsed).toBe(false)
      await writeFile(file, `${await readFile(file, 'utf8')}\n// changed again`)
      await writeFile(cacheFile, 'not a V8 code cache')
      const afterBadCache = requireWithCodeCache(file, { cacheFile })
      expect(afterBadCache.cacheUsed).toBe(false)
      expect((afterBadCache.exports as Lib).name).toBe('lib.cjs')
      expect(await (afterBadCache.exports as Lib).load(pathToFileURL(esm).href)).toBe(42)
    })
  })
})
