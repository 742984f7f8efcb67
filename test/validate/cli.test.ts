import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Ajv4 from 'ajv-draft-04'
import { beforeAll, describe, expect, it } from 'vitest'
import { kubeTools } from '../harness/kube-tools.js'
import { runCli, schemaErrors, withTempDir } from '../helpers/cli.js'
import { cleanRepo, writeRepo } from './clean-repo.js'

const HERE = dirname(fileURLToPath(import.meta.url))

/** Three findings of three severities: an error, a warning and a note. */
function brokenRepo(): Record<string, string> {
  const files = cleanRepo()
  files['environments/dev/kustomization.yaml'] = String(files['environments/dev/kustomization.yaml']).replace(
    '    newTag: released\n',
    '    newTag: latest\n',
  )
  files['environments/old/kustomization.yaml'] = 'resources: []\n'
  files['renovate.json'] = JSON.stringify({ extends: ['config:best-practices', 'github>acme/presets'] })
  return files
}

describe('konflux-gitops validate (CLI)', () => {
  it('exits 0 on a clean repo and says so', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, cleanRepo())
      const result = await runCli(['validate', dir])
      expect(result.stderr).toBe('')
      expect(result.stdout).toMatch(/✔ no findings in \d+ files/)
      expect(result.exitCode).toBe(0)
    })
  })

  it('text output groups findings by file with line, severity, rule and hint, and exits 1', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, brokenRepo())
      const result = await runCli(['validate'], { cwd: dir })
      expect(result.exitCode).toBe(1)
      expect(result.stdout).toContain('environments/dev/kustomization.yaml\n  9:5     error   ')
      expect(result.stdout).toContain('image-latest')
      expect(result.stdout).toContain('hint: Use the configured release tag')
      expect(result.stdout).toContain('1 error, 1 warning, 1 note in 3 files (fails on error)')
      // NO_COLOR is set by runCli and stdout is a pipe: no escape codes.
      expect(result.stdout).not.toContain('\u001b[')
    })
  })

  it('--json matches schemas/validate.json', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, brokenRepo())
      const result = await runCli(['validate', dir, '--json'])
      expect(result.exitCode).toBe(1)
      expect(await schemaErrors('validate', result.json)).toEqual([])
      const report = result.json as { counts: Record<string, number>; findings: { rule: string }[] }
      expect(report.counts).toEqual({ error: 1, warning: 1, note: 1 })
      expect(report.findings.map((f) => f.rule).sort()).toEqual([
        'image-latest',
        'renovate-preset-unresolved',
        'stray-overlay',
      ])
      const same = await runCli(['validate', dir, '--format', 'json'])
      expect(JSON.parse(same.stdout)).toEqual(result.json)
    })
  })

  it('--fail-on warning fails on warnings; notes never fail', async () => {
    await withTempDir(async (dir) => {
      const files = brokenRepo()
      files['environments/dev/kustomization.yaml'] = cleanRepo()['environments/dev/kustomization.yaml']!
      await writeRepo(dir, files)
      expect((await runCli(['validate', dir])).exitCode).toBe(0)
      expect((await runCli(['validate', dir, '--fail-on', 'warning'])).exitCode).toBe(1)
      const noStray = await runCli(['validate', dir, '--fail-on', 'warning', '--skip-rule', 'stray-overlay'])
      expect(noStray.exitCode).toBe(0)
      expect(noStray.stdout).toContain('1 note')
    })
  })

  it('--rule runs only the named rules; unknown rules are usage errors', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, brokenRepo())
      const only = await runCli(['validate', dir, '--json', '--rule', 'stray-overlay,renovate-preset-unresolved'])
      expect(only.exitCode).toBe(0)
      expect((only.json as { findings: { rule: string }[] }).findings.map((f) => f.rule).sort()).toEqual([
        'renovate-preset-unresolved',
        'stray-overlay',
      ])
      const bad = await runCli(['validate', dir, '--rule', 'no-such-rule'])
      expect(bad.exitCode).toBe(2)
      expect(bad.stderr).toContain('unknown rule "no-such-rule"')
      expect(bad.stdout).toBe('')
    })
  })

  it('a missing directory is a usage error naming it', async () => {
    const result = await runCli(['validate', '/nonexistent/gitops', '--json'])
    expect(result.exitCode).toBe(2)
    expect(JSON.stringify(result.json)).toContain('/nonexistent/gitops')
  })

  it('--format github prints workflow commands with file, line and escaped text', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, brokenRepo())
      const result = await runCli(['validate', dir, '--format', 'github'])
      expect(result.exitCode).toBe(1)
      const lines = result.stdout.trim().split('\n')
      expect(lines).toContain(
        '::error file=environments/dev/kustomization.yaml,line=9,col=5,title=konflux-gitops image-latest::' +
          'quay.io/acme/shop/api uses the tag latest; use "released" pinned by digest%0AHint: Use the configured release tag (e.g. `released`) pinned by digest.',
      )
      expect(lines.some((l) => l.startsWith('::warning file=environments/old/kustomization.yaml,line=1,'))).toBe(true)
      expect(lines.some((l) => l.startsWith('::notice file=renovate.json,'))).toBe(true)
      // Every annotation is one line: no raw newline may split a message.
      for (const line of lines.filter((l) => l.startsWith('::')))
        expect(line).toMatch(/^::(error|warning|notice) file=/)
    })
  })

  it('--format sarif is valid SARIF 2.1.0 (checked against the OASIS schema)', async () => {
    const schema = JSON.parse(await readFile(join(HERE, 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8'))
    const ajv = // ajv-draft-04 is CommonJS whose module.exports.default is the class itself: this form type-checks and runs.
      new Ajv4.default({ allErrors: true, strict: false, validateFormats: false, logger: false })
    const validate = ajv.compile(schema)
    await withTempDir(async (dir) => {
      await writeRepo(dir, brokenRepo())
      const result = await runCli(['validate', dir, '--format', 'sarif'])
      expect(result.exitCode).toBe(1)
      const sarif = JSON.parse(result.stdout)
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true)
      const results = sarif.runs[0].results as { ruleId: string; level: string; locations: unknown[] }[]
      expect(results.map((r) => [r.ruleId, r.level]).sort()).toEqual([
        ['image-latest', 'error'],
        ['renovate-preset-unresolved', 'note'],
        ['stray-overlay', 'warning'],
      ])
      const latest = results.find((r) => r.ruleId === 'image-latest')
      expect(latest?.locations).toEqual([
        {
          physicalLocation: {
            artifactLocation: { uri: 'environments/dev/kustomization.yaml', uriBaseId: 'REPOROOT' },
            region: { startLine: 9, startColumn: 5 },
          },
        },
      ])
      // A schema that accepted anything would make this test useless: a broken document must fail.
      expect(validate({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false)
    })
  })

  it('--help shows examples and exit codes', async () => {
    const result = await runCli(['validate', '--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('--format github')
    expect(result.stdout).toContain('EXIT CODES')
  })
})

describe('konflux-gitops validate --build (real kustomize)', () => {
  let pathWithKubectl: string
  beforeAll(async () => {
    const { kubectl } = await kubeTools()
    pathWithKubectl = `${dirname(kubectl)}:${process.env.PATH}`
  })

  it('builds every overlay and reports the one kustomize rejects', async () => {
    await withTempDir(async (dir) => {
      const files = cleanRepo()
      await writeRepo(dir, files)
      const clean = await runCli(['validate', dir, '--build', '--json'], { env: { PATH: pathWithKubectl } })
      expect(clean.exitCode).toBe(0)
      expect((clean.json as { build: { overlays: number } }).build.overlays).toBe(3)

      // A JSON patch replacing a field that is not there: every static check passes, only kustomize itself knows.
      await writeRepo(dir, {
        'environments/stage/kustomization.yaml': `${files['environments/stage/kustomization.yaml']}patches:
  - target:
      kind: Deployment
      name: api
    patch: |-
      - op: replace
        path: /spec/strategy/rollingUpdate/maxSurge
        value: 2
`,
      })
      const broken = await runCli(['validate', dir, '--build', '--json'], { env: { PATH: pathWithKubectl } })
      const report = broken.json as { findings: { rule: string; file: string; message: string }[] }
      expect(report.findings.map((f) => [f.rule, f.file])).toEqual([
        ['kustomize-build', 'environments/stage/kustomization.yaml'],
      ])
      expect(report.findings[0]?.message).toContain('kubectl kustomize environments/stage failed')
      expect(broken.exitCode).toBe(1)
    })
  })

  it('--build without kustomize or kubectl on PATH says what to install', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, cleanRepo())
      const result = await runCli(['validate', dir, '--build'], { env: { PATH: '/nonexistent' } })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain('--build needs kustomize or kubectl on PATH')
    })
  })
})
