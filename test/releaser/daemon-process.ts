import { type ChildProcess, spawn } from 'node:child_process'
import { BIN, ROOT } from '../helpers/cli.js'

export interface DaemonProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the process wrote on stderr so far (pino JSON lines and progress). */
  stderr(): string
  stdout(): string
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>
  kill(signal: NodeJS.Signals): void
}

/** Start `konflux-gitops releaser …` as a real process and wait until /healthz answers. */
export async function startDaemon(
  args: string[],
  options: { port: number; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [BIN, 'releaser', '--listen', `127.0.0.1:${options.port}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
  })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  const url = `http://127.0.0.1:${options.port}`
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`releaser exited before it was healthy (${child.exitCode ?? child.signalCode}):\n${stderr}`)
    }
    try {
      const res = await fetch(`${url}/healthz`)
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`releaser did not become healthy:\n${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    kill: (signal) => child.kill(signal),
  }
}
