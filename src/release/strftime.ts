/**
 * GNU `date +FORMAT` in UTC and the C locale, which is what Konflux's apply-mapping runs (`date -d … "+$format"`
 * in a container whose clock zone is UTC). Hand-written because no npm strftime matches GNU date: the most used one
 * (strftime 0.10.3, checked directive by directive against GNU date) lacks %G %g %V %N %q, the `^`/`#` flags and
 * field widths, gets %j wrong in UTC mode and writes %c/%X/%Z differently. test/release/strftime.test.ts compares
 * this file with the machine's GNU date over every directive.
 *
 * Also GNU `date -d STRING` for the date strings images carry (build-date labels, OCI created): ISO 8601 with or
 * without a zone (none means UTC, as in Konflux's pods), `@seconds`, and RFC 2822 style strings.
 */

/** An instant with nanosecond precision (a JS Date has milliseconds; OCI `created` often has nanoseconds). */
export interface Instant {
  /** Whole seconds since the epoch (may be negative). */
  seconds: number
  /** 0 … 999,999,999 */
  nanos: number
}

export function instantFromDate(date: Date): Instant {
  const ms = date.getTime()
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 }
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

interface Fields {
  year: number
  month: number // 1-12
  day: number
  hour: number
  minute: number
  second: number
  nanos: number
  weekday: number // 0 = Sunday
  yday: number // 0-based
  seconds: number
}

function fieldsOf(instant: Instant): Fields {
  const date = new Date(instant.seconds * 1000)
  const year = date.getUTCFullYear()
  const yday = Math.floor((Date.UTC(year, date.getUTCMonth(), date.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000)
  return {
    year,
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    nanos: instant.nanos,
    weekday: date.getUTCDay(),
    yday,
    seconds: instant.seconds,
  }
}

/** ISO 8601 week-based year and week number. */
function isoWeek(f: Fields): { year: number; week: number } {
  const isoWeekday = (f.weekday + 6) % 7 // Monday = 0
  // The Thursday of this week decides the year.
  const thursday = Date.UTC(f.year, f.month - 1, f.day) + (3 - isoWeekday) * 86_400_000
  const year = new Date(thursday).getUTCFullYear()
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1
  return { year, week }
}

type Conversion = { value: string; numeric: boolean; width: number; pad: '0' | ' ' }

function num(value: number, width: number, pad: '0' | ' ' = '0'): Conversion {
  return { value: String(value), numeric: true, width, pad }
}
function text(value: string): Conversion {
  return { value, numeric: false, width: 0, pad: ' ' }
}

function convert(letter: string, f: Fields, format: (fmt: string) => string): Conversion | undefined {
  const hour12 = f.hour % 12 === 0 ? 12 : f.hour % 12
  switch (letter) {
    case 'a':
      return text(DAYS[f.weekday]!.slice(0, 3))
    case 'A':
      return text(DAYS[f.weekday]!)
    case 'b':
    case 'h':
      return text(MONTHS[f.month - 1]!.slice(0, 3))
    case 'B':
      return text(MONTHS[f.month - 1]!)
    case 'c':
      return text(format('%a %b %e %H:%M:%S %Y'))
    case 'C':
      return num(Math.floor(f.year / 100), 2)
    case 'd':
      return num(f.day, 2)
    case 'D':
    case 'x':
      return text(format('%m/%d/%y'))
    case 'e':
      return num(f.day, 2, ' ')
    case 'F':
      return text(format('%Y-%m-%d'))
    case 'g':
      return num(((isoWeek(f).year % 100) + 100) % 100, 2)
    case 'G':
      return num(isoWeek(f).year, 0)
    case 'H':
      return num(f.hour, 2)
    case 'I':
      return num(hour12, 2)
    case 'j':
      return num(f.yday + 1, 3)
    case 'k':
      return num(f.hour, 2, ' ')
    case 'l':
      return num(hour12, 2, ' ')
    case 'm':
      return num(f.month, 2)
    case 'M':
      return num(f.minute, 2)
    case 'n':
      return text('\n')
    case 'N':
      return { value: String(f.nanos).padStart(9, '0'), numeric: true, width: 9, pad: '0' }
    case 'p':
      return text(f.hour < 12 ? 'AM' : 'PM')
    case 'P':
      return text(f.hour < 12 ? 'am' : 'pm')
    case 'q':
      return num(Math.floor((f.month - 1) / 3) + 1, 1)
    case 'r':
      return text(format('%I:%M:%S %p'))
    case 'R':
      return text(format('%H:%M'))
    case 's':
      return num(f.seconds, 0)
    case 'S':
      return num(f.second, 2)
    case 't':
      return text('\t')
    case 'T':
    case 'X':
      return text(format('%H:%M:%S'))
    case 'u':
      return num(f.weekday === 0 ? 7 : f.weekday, 1)
    case 'U':
      return num(Math.floor((f.yday + 7 - f.weekday) / 7), 2)
    case 'V':
      return num(isoWeek(f).week, 2)
    case 'w':
      return num(f.weekday, 1)
    case 'W':
      return num(Math.floor((f.yday + 7 - ((f.weekday + 6) % 7)) / 7), 2)
    case 'y':
      return num(((f.year % 100) + 100) % 100, 2)
    case 'Y':
      return num(f.year, 0)
    case 'Z':
      return text('UTC')
    case '%':
      return text('%')
    default:
      return undefined
  }
}

// %[flags][width][E|O]conversion, and the %z family with its colons.
const DIRECTIVE = /%([-_0^#+]*)(\d*)(?:[EO])?(:{0,3}z|.)/gs

/** Format `instant` as GNU `date -u +FORMAT` does in the C locale. Unknown conversions are kept as written. */
export function gnuDateFormat(instant: Instant | Date, format: string): string {
  const f = fieldsOf(instant instanceof Date ? instantFromDate(instant) : instant)
  const self = (fmt: string) => gnuDateFormat(instant, fmt)
  return format.replace(DIRECTIVE, (whole, flags: string, widthText: string, letter: string) => {
    if (letter.endsWith('z')) {
      // UTC: the offset is always zero.
      const colons = letter.length - 1
      const value = ['+0000', '+00:00', '+00:00:00', '+00'][colons]!
      return widthText ? value.padStart(Number(widthText), flags.includes('_') ? ' ' : '0') : value
    }
    const conversion = convert(letter, f, self)
    if (!conversion) return whole
    let { value } = conversion
    const width = widthText === '' ? undefined : Number(widthText)
    if (letter === 'N') {
      // %3N means milliseconds: the width truncates (or zero-fills on the right) the nine digits.
      const digits = width ?? 9
      value = value.slice(0, digits).padEnd(digits, '0')
    } else if (conversion.numeric) {
      const negative = value.startsWith('-')
      let digits = negative ? value.slice(1) : value
      const padChar = flags.includes('_')
        ? ' '
        : flags.includes('0') || flags.includes('+')
          ? '0'
          : flags.includes('-')
            ? ''
            : conversion.pad
      const target = width ?? conversion.width
      if (padChar === '0') digits = digits.padStart(target - (negative ? 1 : 0), '0')
      value = (negative ? '-' : '') + digits
      if (padChar === ' ') value = value.padStart(target, ' ')
    } else if (width !== undefined) {
      value = value.padStart(width, flags.includes('0') ? '0' : ' ')
    }
    if (flags.includes('^')) value = value.toUpperCase()
    else if (flags.includes('#')) {
      value = letter === 'p' || letter === 'Z' ? value.toLowerCase() : value.toUpperCase()
    }
    return value
  })
}

export class DateStringError extends Error {}

const ISO =
  /^([+-]?\d{4,})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2}):?(\d{2})?)?$/

/**
 * Read a date the way Konflux's `date -d "$build_date"` does for the strings images carry. A string without a zone
 * is UTC (the pods' zone), never this machine's local time.
 */
export function parseDateString(value: string): Instant {
  const input = value.trim()
  const epoch = /^@(-?\d+)(?:\.(\d+))?$/.exec(input)
  if (epoch) {
    return { seconds: Number(epoch[1]), nanos: Number((epoch[2] ?? '').slice(0, 9).padEnd(9, '0')) }
  }
  const iso = ISO.exec(input)
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = iso
    const month = Number(mo)
    const day = Number(d)
    const hour = Number(h ?? 0)
    const minute = Number(mi ?? 0)
    const second = Number(s ?? 0)
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
      throw new DateStringError(`"${value}" is not a valid date`)
    }
    const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second)
    if (new Date(utc).getUTCDate() !== day && hour < 24) throw new DateStringError(`"${value}" is not a valid date`)
    const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0)) * 60 : 0
    return { seconds: Math.floor(utc / 1000) - offset, nanos: Number((frac ?? '').slice(0, 9).padEnd(9, '0')) }
  }
  // RFC 2822 and similar ("Mon, 29 Jul 2024 02:17:29 +0000"): a zone-less one is read as UTC too.
  const hasZone = /(?:[+-]\d{2}:?\d{2}|\b(?:UTC|GMT|Z)\b)\s*$/i.test(input)
  const ms = Date.parse(hasZone ? input : `${input} UTC`)
  if (Number.isNaN(ms) || !/\d/.test(input)) throw new DateStringError(`cannot read "${value}" as a date`)
  return instantFromDate(new Date(ms))
}
