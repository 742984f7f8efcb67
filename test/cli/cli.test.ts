import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, ROOT, runCli, schemaErrors } from '../helpers/cli.js'

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }

describe('the konflux-gitops binary', () => {
  it('prints the package version', async () => {
    const result = await runCli(['--version'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`konflux-gitops/${pkg.version}`)
  })

  it('lists its commands and topics in --help', async () => {
    const result = await runCli(['--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/USAGE\s+\$ konflux-gitops/)
    expect(result.stdout).toContain('image')
  })

  it('shows examples and the exit-code table in every command help', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { examples?: unknown[]; description?: string; pluginName?: string }>
    }
    const own = Object.entries(manifest.commands)
    expect(own.length).toBeGreaterThan(0)
    for (const [id, command] of own) {
      expect(command.examples?.length ?? 0, `${id} has no examples`).toBeGreaterThan(0)
      expect(command.description ?? '', `${id} has no exit-code table`).toContain('EXIT CODES')
    }
  })

  it('names the nearest command for a typo and exits 2', async () => {
    const result = await runCli(['imag', 'parse', 'nginx'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('Did you mean "konflux-gitops image parse"?')
  })

  it('explains the Node version it needs when started on an older Node', () => {
    let systemNode = ''
    try {
      systemNode = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim()
    } catch {
      return // no system node: nothing older to try on this machine
    }
    if (Number(systemNode.slice(1).split('.')[0]) >= 24) return
    let stderr = ''
    let status = 0
    try {
      execFileSync('/usr/bin/node', [BIN, '--version'], { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      const failure = error as { status: number; stderr: string }
      status = failure.status
      stderr = failure.stderr
    }
    expect(status).toBe(1)
    expect(stderr.trim()).toBe(`konflux-gitops needs Node.js 24 or newer; found ${systemNode.slice(1)}`)
  })
})

describe('--json contract', () => {
  it('image parse prints one JSON document matching its schema', async () => {
    const result = await runCli(['image', 'parse', 'nginx:1.27', '--json'])
    expect(result.exitCode).toBe(0)
    expect(result.json).toMatchObject({ reference: 'docker.io/library/nginx:1.27', tag: '1.27' })
    expect(await schemaErrors('image parse', result.json)).toEqual([])
  })

  it('a usage error is a JSON error document on stdout with exit 2', async () => {
    const result = await runCli(['image', 'parse', 'quay.io/Acme/app', '--json'])
    expect(result.exitCode).toBe(2)
    expect(result.json).toMatchObject({ error: { code: 'invalid-image-reference', exit: 2 } })
    expect((result.json as { error: { message: string } }).error.message).toContain('path at character 9')
    expect(await schemaErrors('error', result.json)).toEqual([])
  })

  it('a usage error in text mode goes to stderr with a hint, nothing on stdout', async () => {
    const result = await runCli(['image', 'parse', 'quay.io/a/b@sha256:abc'])
    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^Error: invalid image reference .*digest at character 13/m)
    expect(result.stderr).toMatch(/^Hint: /m)
  })
})
