import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { gnuDateFormat, parseDateString } from '../../src/release/strftime.js'

/** Every directive GNU date documents, with flags and widths, compared with the machine's own GNU date (UTC, C locale). */
const DIRECTIVES = [
  ...'aAbBcCdDeFgGhHIjklmMnNpPqrRsStTuUVwWxXyYzZ%'.split('').map((c) => `%${c}`),
  '%:z',
  '%::z',
  '%:::z',
  '%-d',
  '%_d',
  '%0e',
  '%^a',
  '%^B',
  '%#a',
  '%#p',
  '%#Z',
  '%-H',
  '%-j',
  '%-m',
  '%_H',
  '%10Y',
  '%3N',
  '%6N',
  '%-s',
  '%5d',
  '%_5m',
  '%Ey',
  '%OH',
  '%Q',
  '%F-%T',
  '%Y%m%d%H%M%S',
  '%Y.%m.%d',
]

function gnu(seconds: number, nanos: number, format: string): string {
  const out = execFileSync('date', ['-u', '-d', `@${seconds}.${String(nanos).padStart(9, '0')}`, `+${format}`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
  }).toString('utf8')
  return out.endsWith('\n') ? out.slice(0, -1) : out
}

describe('gnuDateFormat matches GNU date', () => {
  test.each(DIRECTIVES)('%s over a spread of instants', (format) => {
    // Year boundaries (ISO weeks 52/53/1), leap days, midnight and noon, before the epoch.
    const instants = [0, 1722219449, 1735603200, 1735689599, 1704067200, 1609459200, 951782400, 1230768000, 86399]
    const joined = instants.map((s) => gnu(s, 123456789, format)).join('|')
    expect(instants.map((s) => gnuDateFormat({ seconds: s, nanos: 123456789 }, format)).join('|')).toBe(joined)
  })

  test('random instants and formats agree', () => {
    const pieces = fc.constantFrom(...DIRECTIVES, '-', '.', 'v', '_')
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4102444800 }),
        fc.array(pieces, { minLength: 1, maxLength: 4 }),
        (s, parts) => {
          const format = parts.join('')
          return gnuDateFormat({ seconds: s, nanos: 0 }, format) === gnu(s, 0, format)
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('parseDateString reads build dates as Konflux does', () => {
  test.each([
    ['2024-07-29T02:17:29', '2024-07-29T02:17:29Z'],
    ['2024-07-29T02:17:29Z', '2024-07-29T02:17:29Z'],
    ['2024-07-29T04:17:29+02:00', '2024-07-29T02:17:29Z'],
    ['2024-07-29 02:17:29', '2024-07-29T02:17:29Z'],
    ['2024-07-29T02:17:29.123456789Z', '2024-07-29T02:17:29Z'],
    ['2024-07-29', '2024-07-29T00:00:00Z'],
    ['@1722219449', '2024-07-29T02:17:29Z'],
    ['Mon, 29 Jul 2024 02:17:29 +0000', '2024-07-29T02:17:29Z'],
  ])('%s', (input, iso) => {
    expect(parseDateString(input).seconds).toBe(Date.parse(iso) / 1000)
    // GNU date in a UTC pod reads it the same way.
    expect(gnu(parseDateString(input).seconds, 0, '%s')).toBe(
      execFileSync('date', ['-d', input, '+%s'], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC' } })
        .toString()
        .trim(),
    )
  })

  test('a zone-less build date is UTC whatever this machine’s zone', () => {
    expect(parseDateString('2024-07-29T02:17:29').seconds).toBe(1722219449)
  })

  test('nanoseconds are kept for %N', () => {
    expect(gnuDateFormat(parseDateString('2024-07-29T02:17:29.123456789Z'), '%N')).toBe('123456789')
  })

  test('garbage is refused', () => {
    expect(() => parseDateString('yesterday-ish')).toThrow(/cannot read/)
    expect(() => parseDateString('2024-13-01')).toThrow(/not a valid date/)
  })
})
