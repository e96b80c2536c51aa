import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import { coalesceOps, splitIntoChunks } from '../../../../lib/store/writes/coalesce-ops.js'
import type { WriteOp } from '../../../../lib/store/writes/write-op.js'

const obj = (uid: string, rv: string): KubeObject => ({
  metadata: { name: uid, uid, resourceVersion: rv },
})

describe('coalescing operations', () => {
  it('keeps the last write per uid, in the order of those last writes', () => {
    const ops: WriteOp[] = [
      { type: 'upsert', object: obj('a', '1') },
      { type: 'upsert', object: obj('b', '2') },
      { type: 'upsert', object: obj('a', '3') },
    ]
    const { ops: kept, superseded } = coalesceOps(ops)
    expect(kept).toEqual([ops[1], ops[2]])
    expect(superseded).toBe(1)
  })

  it('lets a delete win over any write for its uid, before or after it', () => {
    const del: WriteOp = { type: 'delete', uid: 'a', deletedAtResourceVersion: '5' }
    const { ops: kept } = coalesceOps([
      { type: 'upsert', object: obj('a', '4') },
      del,
      { type: 'upsert', object: obj('a', '3') },
    ])
    expect(kept).toEqual([del])
  })
})

describe('chunk splitting', () => {
  it('splits into consecutive chunks of the batch size, the last one shorter', () => {
    expect(splitIntoChunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(splitIntoChunks([], 100)).toEqual([])
    expect(splitIntoChunks(Array.from({ length: 1000 }), 100)).toHaveLength(10)
  })

  it('refuses a chunk size below one', () => {
    expect(() => splitIntoChunks([1], 0)).toThrow(/positive integer/)
  })
})
