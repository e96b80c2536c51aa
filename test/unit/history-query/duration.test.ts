import { describe, expect, it } from 'vitest'
import { parseDuration, parseTimeOrAgo } from '../../../lib/history-query/duration.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['250ms', 250],
    [' 2h ', 7_200_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '2', 'h', '2x', '-2h', '2 h', '1.5h', '2H', '2h-', 'h2', '99999999999999999999d'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined()
    },
  )
})

describe('parseTimeOrAgo', () => {
  const now = new Date('2026-11-28T12:00:00.000Z')

  it('reads an ISO time with a zone as that instant', () => {
    expect(parseTimeOrAgo('2026-11-28T10:00:00Z', now)?.toISOString()).toBe(
      '2026-11-28T10:00:00.000Z',
    )
    expect(parseTimeOrAgo('2026-11-28T11:00:00+01:00', now)?.toISOString()).toBe(
      '2026-11-28T10:00:00.000Z',
    )
    expect(parseTimeOrAgo('2026-11-28T10:00:00.250Z', now)?.toISOString()).toBe(
      '2026-11-28T10:00:00.250Z',
    )
  })

  it('reads a duration as that long before now', () => {
    expect(parseTimeOrAgo('2h', now)?.toISOString()).toBe('2026-11-28T10:00:00.000Z')
  })

  it('refuses a time without a zone, which would depend on the machine it runs on', () => {
    expect(parseTimeOrAgo('2026-11-28T10:00:00', now)).toBeUndefined()
    expect(parseTimeOrAgo('2026-11-28', now)).toBeUndefined()
    expect(parseTimeOrAgo('Nov 28 2026 10:00', now)).toBeUndefined()
  })

  it('refuses an impossible date', () => {
    expect(parseTimeOrAgo('2026-13-45T10:00:00Z', now)).toBeUndefined()
  })
})
