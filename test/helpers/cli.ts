import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { expect } from 'vitest'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  stdout: string
  stderr: string
  exitCode: number
  /** stdout parsed as JSON when it is JSON, else undefined. */
  json: unknown
}

/** Run the built CLI as a user would (a real process, Node 24), in `cwd`. */
export function runCli(
  args: string[],
  options: {
    cwd?: string
    env?: Record<string, string | undefined>
    input?: string
    timeoutMs?: number
    /** Another copy of bin/run.js, e.g. one installed from the packed tarball. */
    bin?: string
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      let json: unknown
      try {
        json = JSON.parse(stdout)
      } catch {
        json = undefined
      }
      resolve({ stdout, stderr, exitCode: code ?? -1, json })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Exit code check that shows what the command said when it fails. */
export function expectExit(result: { exitCode: number; stdout: string; stderr: string }, code: number): void {
  expect(result.exitCode, `stdout: ${result.stdout.slice(0, 3000)}\nstderr: ${result.stderr}`).toBe(code)
}

const ajv = new Ajv({ allErrors: true, strict: false })
const compiled = new Map<string, ReturnType<Ajv['compile']>>()

/**
 * The frozen `--json` contract: `schemas/<command id with spaces as dashes>.json`.
 * Returns the list of schema errors (empty when the document conforms).
 */
export async function schemaErrors(commandId: string, document: unknown): Promise<string[]> {
  let validate = compiled.get(commandId)
  if (!validate) {
    const file = join(ROOT, 'schemas', `${commandId.replaceAll(' ', '-')}.json`)
    validate = ajv.compile(JSON.parse(await readFile(file, 'utf8')))
    compiled.set(commandId, validate)
  }
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)
}

/** A temporary directory removed after the callback, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix = 'kg-test-'): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
