import { describe, expect, it } from 'vitest'
import { CLOCK_MARGIN_MS, supersededBy } from '../../../../lib/store/bookkeeping/tombstones.js'

const at = (ms: number) => new Date(ms)
const start = at(10_000_000)

describe('supersededBy (is a tombstone moot after a complete list?)', () => {
  it('retires decimal versions at or below the list, compared as integers', () => {
    const list = { resourceVersion: '100', startedAt: start }
    expect(supersededBy({ resourceVersion: '99', deletedAt: at(0) }, list)).toBe(true)
    expect(supersededBy({ resourceVersion: '100', deletedAt: at(0) }, list)).toBe(true)
    expect(supersededBy({ resourceVersion: '1000', deletedAt: at(0) }, list)).toBe(false)
  })

  it('retires an opaque version written before the list started, by more than the clock margin', () => {
    const list = { resourceVersion: '100', startedAt: start }
    const before = at(start.getTime() - CLOCK_MARGIN_MS - 1)
    const within = at(start.getTime() - CLOCK_MARGIN_MS + 1)
    expect(supersededBy({ resourceVersion: 'opaque', deletedAt: before }, list)).toBe(true)
    expect(supersededBy({ resourceVersion: 'opaque', deletedAt: within }, list)).toBe(false)
  })

  it('uses the time too when the list version is opaque', () => {
    const list = { resourceVersion: 'abc', startedAt: start }
    expect(supersededBy({ resourceVersion: '5', deletedAt: at(0) }, list)).toBe(true)
    expect(supersededBy({ resourceVersion: '5', deletedAt: start }, list)).toBe(false)
  })

  it('keeps an opaque version when the start of the list is unknown, unless equal', () => {
    expect(supersededBy({ resourceVersion: 'x', deletedAt: at(0) }, { resourceVersion: 'y' })).toBe(
      false,
    )
    expect(supersededBy({ resourceVersion: 'x', deletedAt: at(0) }, { resourceVersion: 'x' })).toBe(
      true,
    )
  })
})
