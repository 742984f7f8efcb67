#!/usr/bin/env node
// Plain JavaScript on purpose: this file must run (and explain itself) on Node versions the rest cannot.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(`konflux-gitops needs Node.js 24 or newer; found ${process.versions.node}\n`)
  process.exit(1)
}
const { execute } = await import('@oclif/core')
await execute({ dir: import.meta.url })
