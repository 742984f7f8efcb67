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

// Cache compiled code between runs (Node 22+): loading modules is most of a short command's time.
const { enableCompileCache } = await import('node:module')
enableCompileCache?.()
const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
