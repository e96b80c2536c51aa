import { describe, expect, it } from 'vitest'
import {
  decodeVersionParts,
  encodeVersionParts,
} from '../../../../lib/store/bookkeeping/version-snapshot.js'

describe('encodeVersionParts / decodeVersionParts', () => {
  it('round-trips an index with its namespaces, opaque versions and odd characters included', () => {
    const versions = new Map([
      ['0b1c-uid', '12345'],
      ['uid-"quoted"', 'opaque,rv\n2'],
      ['uid\\3', ''],
    ])
    const namespaces = new Map<string, string | null>([
      ['0b1c-uid', 'default'],
      ['uid-"quoted"', null],
      ['uid\\3', 'ns,"odd"'],
    ])
    expect(decodeVersionParts(encodeVersionParts(versions, namespaces))).toEqual({
      versions,
      namespaces,
    })
  })

  it('keeps a uid whose namespace is not known, without a namespace', () => {
    const versions = new Map([
      ['a', '1'],
      ['b', '2'],
    ])
    const decoded = decodeVersionParts(encodeVersionParts(versions, new Map([['a', 'ns']])))
    expect(decoded.versions).toEqual(versions)
    expect([...decoded.namespaces]).toEqual([['a', 'ns']])
  })

  it('splits a large index into parts no longer than asked, losing nothing', () => {
    const versions = new Map(Array.from({ length: 1000 }, (_, i) => [`uid-${i}`, String(i)]))
    const namespaces = new Map([...versions.keys()].map((uid, i) => [uid, `ns-${i % 7}`]))
    const parts = encodeVersionParts(versions, namespaces, 500)
    expect(parts.length).toBeGreaterThan(10)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(500)
    expect(decodeVersionParts(parts)).toEqual({ versions, namespaces })
  })

  it('encodes an empty index as one empty part', () => {
    expect(encodeVersionParts(new Map(), new Map())).toEqual(['[]'])
    expect(decodeVersionParts(['[]'])).toEqual({ versions: new Map(), namespaces: new Map() })
  })

  it('refuses a part that is not uid, resourceVersion, namespace triples (the older pairs included)', () => {
    expect(() => decodeVersionParts(['["uid-only"]'])).toThrow('triples')
    expect(() => decodeVersionParts(['["a","1","b","2"]'])).toThrow('triples')
  })
})
