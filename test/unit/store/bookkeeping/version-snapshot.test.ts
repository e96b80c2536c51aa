import { describe, expect, it } from 'vitest'
import {
  decodeVersionParts,
  encodeVersionParts,
} from '../../../../lib/store/bookkeeping/version-snapshot.js'

describe('encodeVersionParts / decodeVersionParts', () => {
  it('round-trips an index, opaque versions and odd characters included', () => {
    const versions = new Map([
      ['0b1c-uid', '12345'],
      ['uid-"quoted"', 'opaque,rv\n2'],
      ['uid\\3', ''],
    ])
    expect(decodeVersionParts(encodeVersionParts(versions))).toEqual(versions)
  })

  it('splits a large index into parts no longer than asked, losing nothing', () => {
    const versions = new Map(Array.from({ length: 1000 }, (_, i) => [`uid-${i}`, String(i)]))
    const parts = encodeVersionParts(versions, 500)
    expect(parts.length).toBeGreaterThan(10)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(500)
    expect(decodeVersionParts(parts)).toEqual(versions)
  })

  it('encodes an empty index as one empty part', () => {
    expect(encodeVersionParts(new Map())).toEqual(['[]'])
    expect(decodeVersionParts(['[]'])).toEqual(new Map())
  })

  it('refuses a part that is not uid, resourceVersion pairs', () => {
    expect(() => decodeVersionParts(['["uid-only"]'])).toThrow('pairs')
  })
})
