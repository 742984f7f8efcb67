import { describe, expect, it } from 'vitest'
import { RULES, validateRepository } from '../../src/validate/index.js'
import { withTempDir } from '../helpers/cli.js'
import { cleanRepo, writeRepo } from './clean-repo.js'
import { RULE_FIXTURES, RULES_TESTED_ELSEWHERE } from './rule-fixtures.js'

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle))
  if (index === -1) throw new Error(`"${needle}" not found`)
  return index + 1
}

describe('validate rules', () => {
  it('finds nothing in the layout init writes', async () => {
    await withTempDir(async (dir) => {
      await writeRepo(dir, cleanRepo())
      const report = await validateRepository(dir)
      expect(report.findings).toEqual([])
      expect(report.ok).toBe(true)
    })
  })

  it('has a failing fixture for every rule', () => {
    const covered = new Set([...RULE_FIXTURES.map((f) => f.rule), ...RULES_TESTED_ELSEWHERE])
    expect(RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([])
  })

  for (const fixture of RULE_FIXTURES) {
    it(`${fixture.rule} fires and names file and line`, async () => {
      await withTempDir(async (dir) => {
        const files = cleanRepo() as Record<string, string | Buffer>
        fixture.edit(files)
        await writeRepo(dir, files)
        await fixture.setup?.(dir)
        const report = await validateRepository(dir)
        const hits = report.findings.filter((f) => f.rule === fixture.rule)
        expect(hits, JSON.stringify(report.findings, null, 1)).not.toHaveLength(0)
        const hit = hits.find((f) => f.file === fixture.at.file)
        expect(hit, `no ${fixture.rule} finding in ${fixture.at.file}: ${JSON.stringify(hits)}`).toBeDefined()
        if (fixture.at.lineWith !== null) {
          expect(hit?.line).toBe(lineOf(String(files[fixture.at.file]), fixture.at.lineWith))
        } else if (fixture.rule === 'yaml-syntax') {
          expect(hit?.line).toBeGreaterThan(0)
          expect(hit?.column).toBeGreaterThan(0)
        }
        if (fixture.rule === 'yaml-duplicate-key')
          expect(hit?.message).toBe('key "replicas" appears twice in one mapping')
        const rule = RULES.find((r) => r.id === fixture.rule)!
        expect(hit?.severity).toBe(rule.severity)
        expect(hit?.hint).toBe(rule.hint)
        expect(report.ok).toBe(rule.severity !== 'error')
      })
    })
  }

  it('reads JSON5 Renovate configs (comments, single quotes) and reports their syntax errors with a line', async () => {
    await withTempDir(async (dir) => {
      const files: Record<string, string> = cleanRepo()
      delete files['renovate.json']
      files['renovate.json5'] =
        "// pins images\n{\n  extends: ['config:best-practices'],\n  automergeType: 'rocket',\n}\n"
      await writeRepo(dir, files)
      const report = await validateRepository(dir)
      expect(report.findings.map((f) => [f.rule, f.file])).toEqual([['renovate-config-invalid', 'renovate.json5']])
      expect(report.findings[0]?.message).toContain('automergeType')

      await writeRepo(dir, { 'renovate.json5': "{\n  extends: ['config:best-practices'\n}\n" })
      const broken = await validateRepository(dir)
      expect(broken.findings).toEqual([
        expect.objectContaining({ rule: 'yaml-syntax', file: 'renovate.json5', line: 3 }),
      ])
    })
  })
})
