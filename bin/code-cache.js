// Loads a CommonJS bundle with a V8 code cache taken AFTER a warm-up run. Hand-written because nothing built in does
// this: Node's own compile cache (module.enableCompileCache) is taken right after compiling, so it holds only
// top-level code; every function oclif runs for `--help` was compiled again on each start (about 10 ms).
// v8-compile-cache did this for whole apps but is unmaintained.
// A code cache is valid only for the Node (V8 version and flags) that made it, so none is shipped: it lives in Node's
// compile cache directory, named after the running Node and the bundle, and the first run on a Node writes it.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire, getCompileCacheDir } from 'node:module'
import { basename, dirname, join } from 'node:path'
import vm from 'node:vm'

/**
 * Where the cache of `filename` lives for the running Node, or undefined when Node's compile cache is off
 * (NODE_DISABLE_COMPILE_CACHE, or a directory it cannot write).
 * @param {string} filename
 */
export function codeCacheFile(filename) {
  const dir = getCompileCacheDir?.()
  if (!dir) return undefined
  const { size, mtimeMs } = statSync(filename)
  const node = `${process.version}-${process.arch}-v8-${process.versions.v8}`.replace(/[^\w.-]/g, '_')
  return join(dir, `konflux-gitops-${basename(filename)}-${node}-${size}-${Math.trunc(mtimeMs)}.v8cache`)
}

/**
 * @param {string} filename absolute path of a CommonJS file
 * @param {{ cacheFile?: string }} [options] the cache to read and write (default: codeCacheFile(filename))
 */
export function requireWithCodeCache(filename, options = {}) {
  const cacheFile = 'cacheFile' in options ? options.cacheFile : codeCacheFile(filename)
  let cachedData
  try {
    cachedData = cacheFile ? readFileSync(cacheFile) : undefined
  } catch {
    cachedData = undefined // first run on this Node: compile as usual
  }
  // Module.wrap's parameters plus one: the bundler rewrote the bundle's import() calls to __importFromMain, because
  // import() inside a vm.Script needs either --experimental-vm-modules or an option that prints an experimental
  // warning. Here import() runs in a normal module: the main loader (and bin/run.js's resolve hook) handles it.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __importFromMain) {${readFileSync(filename, 'utf8')}\n})`
  const script = new vm.Script(wrapped, { filename, cachedData })
  const module = { exports: {}, filename, id: filename, loaded: false }
  const importFromMain = (specifier, options) => import(specifier, options)
  script
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename), importFromMain)
  module.loaded = true
  return {
    exports: module.exports,
    /** True when V8 took the cache; false when there was none or V8 rejected it (another Node or other flags). */
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    cacheFile,
    /** Write the cache, including every function compiled so far; call after a representative run. */
    saveCodeCache() {
      if (!cacheFile) return
      try {
        writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData())
        renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile)
      } catch {
        // A read-only or full disk costs the next start some milliseconds, nothing else.
      }
    },
  }
}
