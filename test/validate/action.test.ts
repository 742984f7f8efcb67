import { spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { BIN, ROOT, withTempDir } from '../helpers/cli.js'
import { cleanRepo, writeRepo } from './clean-repo.js'

interface Action {
  runs: { using: string; steps: { uses?: string; run?: string; shell?: string; env?: Record<string, string> }[] }
  inputs: Record<string, { default?: string }>
}

function bash(script: string, env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => {
      stdout += c
    })
    child.stderr.on('data', (c) => {
      stderr += c
    })
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

describe('action.yml (composite GitHub Action)', () => {
  it('passes inputs through env only, and its script runs validate with annotations and SARIF', async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as Action
    expect(action.runs.using).toBe('composite')
    const step = action.runs.steps.find((s) => s.run)!
    expect(step.shell).toBe('bash')
    // Script injection guard: no expression is expanded into the shell script itself.
    expect(step.run).not.toContain('${{')

    await withTempDir(async (dir) => {
      // `npx --yes konflux-gitops@VERSION …` becomes this checkout's CLI: the script is run as GitHub would.
      const shims = join(dir, 'bin')
      await mkdir(shims)
      await writeFile(
        join(shims, 'npx'),
        `#!/usr/bin/env bash\n[ "$1" = --yes ] && shift\necho "$1" >> "${join(dir, 'npx-packages')}"\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`,
      )
      await chmod(join(shims, 'npx'), 0o755)
      const repo = join(dir, 'repo')
      const files = cleanRepo()
      files['environments/dev/kustomization.yaml'] = String(files['environments/dev/kustomization.yaml']).replace(
        '    newTag: released\n',
        '    newTag: latest\n',
      )
      await writeRepo(repo, files)
      // The workspace is the checkout (git top level); the GitOps repo is its repo/ folder (the directory input).
      await bash('git init -q .', {}, dir)
      const env: Record<string, string> = {
        PATH: `${shims}:${process.env.PATH}`,
        KG_DIRECTORY: 'repo',
        KG_FAIL_ON: 'error',
        KG_VERSION: '0.1.0',
        KG_ARGS: '--skip-rule stray-overlay',
        KG_SARIF_FILE: 'results.sarif',
      }
      expect(Object.keys(step.env ?? {}).sort()).toEqual(
        Object.keys(env)
          .filter((k) => k !== 'PATH')
          .sort(),
      )
      const failed = await bash(step.run!, env, dir)
      expect(failed.code).toBe(1)
      // Annotations and SARIF name files from the git top level, where GitHub looks for them.
      expect(failed.stdout).toContain('::error file=repo/environments/dev/kustomization.yaml,line=9,')
      const sarif = JSON.parse(await readFile(join(dir, 'results.sarif'), 'utf8'))
      expect(sarif.runs[0].results).toHaveLength(1)
      expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({
        uri: 'repo/environments/dev/kustomization.yaml',
        uriBaseId: 'REPOROOT',
      })
      const text = await bash(`"${process.execPath}" "${BIN}" validate repo --skip-rule stray-overlay`, {}, dir)
      expect(text.stdout.split('\n')[0]).toBe('repo/environments/dev/kustomization.yaml')
      expect((await readFile(join(dir, 'npx-packages'), 'utf8')).trim().split('\n')).toEqual([
        'konflux-gitops@0.1.0',
        'konflux-gitops@0.1.0',
      ])

      await writeRepo(repo, {
        'environments/dev/kustomization.yaml': cleanRepo()['environments/dev/kustomization.yaml']!,
      })
      const passed = await bash(step.run!, { ...env, KG_SARIF_FILE: '' }, dir)
      expect(passed.code, passed.stderr).toBe(0)
    })
  })
})
