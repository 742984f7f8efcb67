import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, runCli, withTempDir } from '../helpers/cli.js'
import { read } from './repo-checks.js'

/** Run init under a pseudo-terminal (util-linux `script`), answering each prompt once it shows. */
function initOnTerminal(cwd: string, answers: { prompt: RegExp; answer: string }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const command = `${process.execPath} ${BIN} init demo`
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, CI: '' } })
    let output = ''
    let next = 0
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no prompt matched ${answers[next]?.prompt}; output so far:\n${output}`))
    }, 30_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      while (next < answers.length && answers[next]!.prompt.test(output)) {
        child.stdin.write(`${answers[next]!.answer}\r`)
        output = ''
        next++
      }
    })
    child.on('close', () => {
      clearTimeout(timer)
      resolve(output)
    })
  })
}

describe('init prompts', () => {
  it('asks for a missing app and components on a terminal', async () => {
    await withTempDir(async (tmp) => {
      await initOnTerminal(tmp, [
        { prompt: /Application name/, answer: 'shop' },
        { prompt: /Component as NAME=IMAGE/, answer: 'api=quay.io/acme/shop/api' },
        { prompt: /Another component/, answer: '' },
      ])
      const spec = await read(join(tmp, 'demo'), 'konflux-gitops.yaml')
      expect(spec).toContain('app: shop')
      expect(spec).toContain('- name: api\n    image: quay.io/acme/shop/api\n')
    })
  })

  it('never prompts without a terminal: a missing value is a usage error', async () => {
    await withTempDir(async (tmp) => {
      const result = await runCli(['init', 'demo', '--component', 'api=quay.io/acme/shop/api'], { cwd: tmp })
      expect(result.exitCode).toBe(2)
      expect(result.stderr).toContain('init needs --app NAME (or --from-snapshot FILE)')
      const none = await runCli(['init', 'demo', '--app', 'shop'], { cwd: tmp })
      expect(none.exitCode).toBe(2)
      expect(none.stderr).toContain('init needs at least one --component')
    })
  })
})
