import { describe, expect, it } from 'vitest'
import { describeHold, holdDeletes } from '../../../lib/sync/mass-delete-guard.js'

const defaults = { maxFraction: 0.5, minStored: 100 }
const plan = (stored: number, wouldDelete: number) => ({
  stored,
  listed: stored - wouldDelete,
  wouldDelete,
})

describe('holdDeletes, the mass-delete guard', () => {
  it('lets a list delete exactly the fraction, and holds one delete more', () => {
    expect(holdDeletes(defaults, plan(200, 100))).toBeUndefined()
    expect(holdDeletes(defaults, plan(200, 101))).toEqual({
      stored: 200,
      listed: 99,
      wouldDelete: 101,
      maxFraction: 0.5,
      minStored: 100,
      maxDeletes: 100,
    })
  })

  it('holds 150 deletes of 200 stored, and lets 30 through', () => {
    expect(holdDeletes(defaults, plan(200, 150))).toMatchObject({ wouldDelete: 150 })
    expect(holdDeletes(defaults, plan(200, 30))).toBeUndefined()
  })

  it('applies from the minimum stored count on, not below it', () => {
    expect(holdDeletes(defaults, plan(99, 99))).toBeUndefined()
    expect(holdDeletes(defaults, plan(100, 100))).toMatchObject({ stored: 100, maxDeletes: 50 })
    expect(holdDeletes(defaults, plan(100, 50))).toBeUndefined()
    expect(holdDeletes(defaults, plan(100, 51))).toBeDefined()
  })

  it('never holds with a fraction of 1: the setting that disables it', () => {
    expect(holdDeletes({ maxFraction: 1, minStored: 0 }, plan(10_000, 10_000))).toBeUndefined()
  })

  it('holds every delete with a fraction of 0, and nothing when nothing is deleted', () => {
    const strict = { maxFraction: 0, minStored: 0 }
    expect(holdDeletes(strict, plan(10, 1))).toMatchObject({ maxDeletes: 0 })
    expect(holdDeletes(strict, plan(10, 0))).toBeUndefined()
    expect(holdDeletes(strict, plan(0, 0))).toBeUndefined()
  })

  it('compares the fraction as a quotient, exact where the product is not (0.57 x 100 = 56.99...)', () => {
    const limits = { maxFraction: 0.57, minStored: 0 }
    expect(holdDeletes(limits, plan(100, 57))).toBeUndefined()
    expect(holdDeletes(limits, plan(100, 58))).toMatchObject({ maxDeletes: 57 })
    expect(holdDeletes({ maxFraction: 0.1, minStored: 0 }, plan(30, 4))).toMatchObject({
      maxDeletes: 3,
    })
  })

  it('says in the report what was held, and how an operator applies it', () => {
    const hold = holdDeletes(defaults, plan(200, 150))!
    const text = describeHold(hold)
    expect(text).toContain('would delete 150 of 200 stored documents (50 listed)')
    expect(text).toContain('more than 50% (at most 100)')
    expect(text).toContain('{"confirmDeletes": true}')
  })
})
