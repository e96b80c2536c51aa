/**
 * `--since 2h`, `--as-of 2026-11-28T10:00:00Z`: the times users type. A
 * duration is one or more `<integer><unit>` parts (`90s`, `30m`, `1h30m`, `7d`,
 * `2w`); a time is ISO 8601 with a zone (`Z` or `+01:00`), so that the same
 * command gives the same answer on every machine.
 */

const unitMs: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const wholeDuration = /^(\d+(ms|s|m|h|d|w))+$/
const durationPart = /(\d+)(ms|s|m|h|d|w)/g

export const DURATION_HELP =
  'a duration such as 90s, 30m, 2h, 1h30m, 7d or 2w (units ms, s, m, h, d, w)'
export const TIME_HELP = `an ISO 8601 time with a zone (2026-11-28T10:00:00Z) or ${DURATION_HELP} ago`

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (!wholeDuration.test(trimmed)) return undefined
  let total = 0
  for (const [, amount, unit] of trimmed.matchAll(durationPart))
    total += Number(amount) * unitMs[unit!]!
  return Number.isSafeInteger(total) ? total : undefined
}

// A date, a `T`, a time, and a zone: `Date.parse` alone accepts `2026-11-28` (as UTC)
// and `Nov 28 2026` (as local time), which would make an answer depend on the machine.
const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i

/** An ISO time with a zone, or a duration before `now`; undefined when it is neither. */
export function parseTimeOrAgo(text: string, now: Date = new Date()): Date | undefined {
  const trimmed = text.trim()
  if (isoWithZone.test(trimmed)) {
    const ms = Date.parse(trimmed)
    return Number.isNaN(ms) ? undefined : new Date(ms)
  }
  const ago = parseDuration(trimmed)
  return ago === undefined ? undefined : new Date(now.getTime() - ago)
}
