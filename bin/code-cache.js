// Loads a CommonJS bundle with a V8 code cache taken AFTER a warm-up run (written by scripts/bundle-oclif-core.mjs).
// Hand-written because nothing built in does this: Node's own compile cache (module.enableCompileCache) is taken
// right after compiling, so it holds only top-level code; every function oclif runs for `--help` was compiled
// again on each start (about 10 ms). v8-compile-cache did this for whole apps but is unmaintained.
// A cache from another Node/V8 version or other V8 flags is rejected by V8 itself; then this is a plain load.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import vm from 'node:vm'

/** @param {string} filename absolute path of a CommonJS file; its cache is `${filename}.v8cache` */
export function requireWithCodeCache(filename) {
  const cacheFile = `${filename}.v8cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined // not built yet (tsc-only build) or not shipped: compile as usual
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
    /** Write the cache, including every function compiled so far; call after a representative run. */
    saveCodeCache() {
      writeFileSync(`${cacheFile}.tmp`, script.createCachedData())
      renameSync(`${cacheFile}.tmp`, cacheFile)
    },
  }
}
