import { describe, expect, it } from 'vitest'
import { compareObserved, latestOf } from '../../../lib/history-query/version-order.js'

const v = (iso: string, resourceVersion: string) => ({
  observedAt: new Date(iso),
  resourceVersion,
})

describe('version order', () => {
  it('orders by observedAt first', () => {
    expect(
      compareObserved(v('2026-11-28T10:00:00Z', '9'), v('2026-11-28T10:01:00Z', '1')),
    ).toBeLessThan(0)
  })

  it('orders versions of one watch batch (same millisecond) by resourceVersion as integers', () => {
    const batch = [v('2026-11-28T10:00:00Z', '999'), v('2026-11-28T10:00:00Z', '1000')]
    expect(latestOf(batch)?.resourceVersion).toBe('1000')
    expect(latestOf([...batch].reverse())?.resourceVersion).toBe('1000')
    expect(compareObserved(batch[0]!, batch[0]!)).toBe(0)
  })

  it('has no latest of nothing', () => {
    expect(latestOf([])).toBeUndefined()
  })
})
