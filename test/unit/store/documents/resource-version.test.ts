import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareResourceVersions,
  isNewer,
} from '../../../../lib/store/documents/resource-version.js'

describe('resource version comparison', () => {
  it('compares decimal versions as integers, not as text', () => {
    expect(isNewer('10', '9')).toBe(true)
    expect(isNewer('9', '10')).toBe(false)
    expect(isNewer('100', '100')).toBe(false)
    expect(
      compareResourceVersions('123456789012345678901234567890', '123456789012345678901234567889'),
    ).toBe(1)
  })

  it('agrees with BigInt for any two decimal versions', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        (a, b) => {
          const expected = a === b ? 0 : a > b ? 1 : -1
          expect(compareResourceVersions(a.toString(), b.toString())).toBe(expected)
        },
      ),
    )
  })

  it('counts any difference as newer when a version is not decimal', () => {
    expect(isNewer('abc', 'abd')).toBe(true)
    expect(isNewer('abd', 'abc')).toBe(true)
    expect(isNewer('12', 'x1')).toBe(true)
    expect(isNewer('007', '7')).toBe(true)
    expect(isNewer('abc', 'abc')).toBe(false)
  })
})
