import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { BIN, ROOT, runCli, withTempDir } from '../helpers/cli.js'

const UNBUNDLED = { KONFLUX_GITOPS_UNBUNDLED: '1' }

describe('the bundled @oclif/core (dist/oclif-core.cjs, loaded by bin/run.js)', () => {
  it('is built by npm run build', () => {
    expect(existsSync(join(ROOT, 'dist/oclif-core.cjs'))).toBe(true)
    expect(existsSync(join(ROOT, 'dist/oclif-core.cjs.v8cache'))).toBe(true)
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
      const { requireWithCodeCache } = (await import(pathToFileURL(join(ROOT, 'bin/code-cache.js')).href)) as {
        requireWithCodeCache: (file: string) => { exports: Record<string, unknown>; saveCodeCache: () => void }
      }
      const esm = join(dir, 'answer.mjs')
      await writeFile(esm, 'export const answer = 42\n')
      const file = join(dir, 'lib.cjs')
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

      const first = requireWithCodeCache(file)
      expect((first.exports as Lib).name).toBe('lib.cjs')
      expect(await (first.exports as Lib).load(pathToFileURL(esm).href)).toBe(42)
      expect(existsSync(`${file}.v8cache`)).toBe(false)
      first.saveCodeCache()
      expect(existsSync(`${file}.v8cache`)).toBe(true)

      const cached = requireWithCodeCache(file).exports as Lib
      expect(await cached.load(pathToFileURL(esm).href)).toBe(42)

      await writeFile(`${file}.v8cache`, 'not a V8 code cache')
      const afterBadCache = requireWithCodeCache(file).exports as Lib
      expect(afterBadCache.name).toBe('lib.cjs')
      expect(await afterBadCache.load(pathToFileURL(esm).href)).toBe(42)
    })
  })
})
