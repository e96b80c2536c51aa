import { describe, expect, it } from 'vitest'
import {
  amendIndex,
  inNamespaces,
  type StoredIndex,
} from '../../../../lib/store/bookkeeping/version-index.js'

const indexOf = (entries: Array<[string, string, string | null]>): StoredIndex => ({
  versions: new Map(entries.map(([uid, rv]) => [uid, rv])),
  namespaces: new Map(entries.map(([uid, , ns]) => [uid, ns])),
})

describe('inNamespaces', () => {
  it('keeps only the uids of the given namespaces, leaving out cluster-scoped and unknown ones', () => {
    const index = indexOf([
      ['a', '1', 'x'],
      ['b', '2', 'y'],
      ['c', '3', null],
    ])
    index.versions.set('d', '4') // namespace not known
    const kept = inNamespaces(index, ['x'])
    expect([...kept.versions]).toEqual([['a', '1']])
    expect([...kept.namespaces]).toEqual([['a', 'x']])
  })
})

describe('amendIndex', () => {
  it('takes what a look-up found for the uids written since the snapshot, and drops what it did not find', () => {
    const index = indexOf([
      ['kept', '1', 'x'],
      ['updated', '1', 'x'],
      ['deleted', '1', 'x'],
    ])
    const found = indexOf([
      ['updated', '7', 'x'],
      ['inserted', '8', 'y'],
    ])
    amendIndex(index, ['updated', 'deleted', 'inserted', 'never-landed'], found)
    expect([...index.versions].sort()).toEqual([
      ['inserted', '8'],
      ['kept', '1'],
      ['updated', '7'],
    ])
    expect(index.namespaces.get('inserted')).toBe('y')
    expect(index.namespaces.has('deleted')).toBe(false)
  })
})
