import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkTree, memoryTree, RULE_IDS, validateRepository } from '../../src/validate/index.js'
import { withTempDir } from '../helpers/cli.js'
import { cleanRepo, writeRepo } from './clean-repo.js'

function billionLaughs(levels: number): string {
  const lines = ['l0: &l0 "lol"']
  for (let i = 1; i <= levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    )
  return `${lines.join('\n')}\n`
}

describe('validate on hostile input', () => {
  it('an empty repository gives one finding, not a crash', async () => {
    await withTempDir(async (dir) => {
      const report = await validateRepository(dir)
      expect(report.findings.map((f) => f.rule)).toEqual(['spec-missing'])
      expect(report.ok).toBe(false)
    })
  })

  it('an alias bomb is reported quickly instead of expanding', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, { ...cleanRepo(), 'environments/dev/bomb.yaml': billionLaughs(12) })
      const started = performance.now()
      const report = await validateRepository(dir, { renovate: null })
      expect(performance.now() - started).toBeLessThan(10_000)
      expect(report.findings).toEqual([
        expect.objectContaining({ rule: 'yaml-alias-limit', file: 'environments/dev/bomb.yaml', line: 1 }),
      ])
    })
  })

  it('binary files, a 10 MB file and links out of the repo or in loops are findings', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, cleanRepo())
      await writeFile(join(dir, 'components/api/base/big.yaml'), `a: "${'x'.repeat(10 * 1024 * 1024)}"\n`)
      await writeFile(join(dir, 'components/api/base/latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]))
      await writeFile(join(dir, 'components/api/base/image.yaml'), Buffer.from([0, 1, 2, 3, 255]))
      await symlink('/etc', join(dir, 'etc-link'))
      await symlink('/etc/hostname', join(dir, 'components/api/base/host.yaml'))
      await symlink('loop-b.yaml', join(dir, 'loop-a.yaml'))
      await symlink('loop-a.yaml', join(dir, 'loop-b.yaml'))
      await mkdir(join(dir, 'nested'))
      await symlink('..', join(dir, 'nested', 'up')) // a directory link back into the repo: listed, not followed
      const report = await validateRepository(dir, { renovate: null })
      const byFile = Object.fromEntries(report.findings.map((f) => [f.file, f.rule]))
      expect(byFile).toEqual({
        'components/api/base/big.yaml': 'file-unreadable',
        'components/api/base/latin1.yaml': 'file-unreadable',
        'components/api/base/image.yaml': 'file-unreadable',
        'components/api/base/host.yaml': 'symlink-outside',
        'etc-link': 'symlink-outside',
        'loop-a.yaml': 'file-unreadable',
        'loop-b.yaml': 'file-unreadable',
      })
      expect(report.findings.find((f) => f.file.endsWith('big.yaml'))?.message).toContain('10.0 MiB')
    })
  })

  it('1,000 generated malformed files give findings, never a crash', async () => {
    const clean = cleanRepo()
    const yamlish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .array(
          fc.constantFrom(
            'a:',
            ' b',
            '- ',
            '&x ',
            '*x',
            '[',
            ']',
            '{',
            '}',
            '"',
            "'",
            ':',
            '\n',
            '\t',
            '---\n',
            '? ',
            '!!str ',
            '%YAML 1.2\n',
            'images:',
            'resources:',
            'newTag: ',
            'sha256:',
            '@',
            '../',
            'apiVersion: apps/v1\n',
            'kind: Deployment\n',
            '<<: *x\n',
          ),
          { maxLength: 60 },
        )
        .map((parts) => parts.join('')),
    )
    const target = fc.constantFrom(
      'konflux-gitops.yaml',
      'environments/dev/kustomization.yaml',
      'components/api/base/kustomization.yaml',
      'components/api/base/deployment.yaml',
      'argocd/applicationset.yaml',
      'renovate.json',
    )
    let findings = 0
    await fc.assert(
      fc.asyncProperty(target, yamlish, async (file, text) => {
        const tree = memoryTree({ ...clean, [file]: text })
        const result = await checkTree(tree, { renovate: null })
        for (const f of result) {
          expect(RULE_IDS).toContain(f.rule)
          expect(f.file.length).toBeGreaterThan(0)
        }
        findings += result.length
      }),
      { numRuns: 1000 },
    )
    expect(findings).toBeGreaterThan(500)
  })
})
