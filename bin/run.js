#!/usr/bin/env node
// Plain JavaScript on purpose: this file must run (and explain itself) on Node versions the rest cannot.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(`konflux-gitops needs Node.js 24 or newer; found ${process.versions.node}\n`)
  process.exit(1)
}

const argv = process.argv.slice(2)
// `--version` is asked by scripts and version checks in loops: answer it without loading oclif (about 3x faster),
// in the same words oclif prints.
if (argv.length === 1 && argv[0] === '--version') {
  const { readFileSync } = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
  process.exit(0)
}

// A clone builds dist/ with `npm run build` (the published package ships it: `prepack` builds before packing).
const { existsSync } = await import('node:fs')
if (!existsSync(new URL('../dist/commands', import.meta.url))) {
  process.stderr.write('konflux-gitops is not built: run `npm run build` in its checkout first\n')
  process.exit(1)
}

// Cache compiled code between runs (Node 22+): loading modules is most of a short command's time.
const { enableCompileCache, registerHooks } = await import('node:module')
enableCompileCache?.()

// `npm run build` bundles @oclif/core into one file with a warm code cache (scripts/bundle-oclif-core.mjs): loading
// its ~170 separate modules was most of a cold `--help`. Send every `import '@oclif/core'` (ours, the plugins', the
// hooks') to that bundle so the process holds a single copy of oclif. Without it (a tsc-only build), or with
// KONFLUX_GITOPS_UNBUNDLED=1 (to rule the bundle out when debugging; bench/startup.mjs compares both), the
// installed @oclif/core package is used as is.
const bundledCore = new URL('../dist/oclif-core.js', import.meta.url)
if (process.env.KONFLUX_GITOPS_UNBUNDLED !== '1' && existsSync(bundledCore)) {
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === '@oclif/core' ? { url: bundledCore.href, shortCircuit: true } : nextResolve(specifier, context),
  })
}
// The Node version was checked above; oclif's own check loads semver and re-reads its package.json on every run.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
