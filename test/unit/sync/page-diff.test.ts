import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../lib/kube/types.js'
import { deletesAfterCompleteList, diffPage } from '../../../lib/sync/page-diff.js'

const obj = (uid: string, resourceVersion: string): KubeObject => ({
  metadata: { uid, name: uid, namespace: 'ns', resourceVersion },
})

describe('diffPage', () => {
  it('inserts objects that are not stored', () => {
    const seen = new Set<string>()
    const d = diffPage([obj('a', '10')], new Map(), seen)
    expect(d).toMatchObject({ inserts: 1, updates: 0, unchanged: 0 })
    expect(d.ops).toEqual([{ type: 'insert', object: obj('a', '10') }])
    expect([...seen]).toEqual(['a'])
  })

  it('replaces objects whose version moved on, guarded by the stored version', () => {
    const d = diffPage([obj('a', '12')], new Map([['a', '10']]), new Set())
    expect(d.ops).toEqual([
      { type: 'replace', object: obj('a', '12'), expectedResourceVersion: '10' },
    ])
    expect(d.updates).toBe(1)
  })

  it('writes nothing for objects whose version did not change', () => {
    const d = diffPage(
      [obj('a', '10'), obj('b', '7')],
      new Map([
        ['a', '10'],
        ['b', '7'],
      ]),
      new Set(),
    )
    expect(d.ops).toEqual([])
    expect(d.unchanged).toBe(2)
  })

  it('never goes back to an older version than the one stored', () => {
    const d = diffPage([obj('a', '9')], new Map([['a', '10']]), new Set())
    expect(d.ops).toEqual([])
    expect(d.unchanged).toBe(1)
  })

  it('compares decimal versions as integers, not as text', () => {
    const d = diffPage([obj('a', '100')], new Map([['a', '99']]), new Set())
    expect(d.updates).toBe(1)
  })

  it('counts an object served twice by a restarted list once', () => {
    const seen = new Set<string>()
    diffPage([obj('a', '10')], new Map(), seen)
    const again = diffPage([obj('a', '10')], new Map(), seen)
    expect(again.ops).toEqual([])
    expect(again.inserts + again.unchanged).toBe(0)
  })
})

describe('deletesAfterCompleteList', () => {
  it('deletes exactly the stored uids the complete list did not serve, guarded by their version', () => {
    const stored = new Map([
      ['a', '10'],
      ['b', '11'],
      ['c', '12'],
    ])
    const ops = deletesAfterCompleteList(stored, new Set(['b']), '50')
    expect(ops).toEqual([
      { type: 'delete', uid: 'a', expectedResourceVersion: '10', deletedAtResourceVersion: '50' },
      { type: 'delete', uid: 'c', expectedResourceVersion: '12', deletedAtResourceVersion: '50' },
    ])
  })

  it('deletes nothing when every stored object was listed', () => {
    expect(deletesAfterCompleteList(new Map([['a', '1']]), new Set(['a', 'z']), '5')).toEqual([])
  })
})
