import { describe, expect, it } from 'vitest'
import type { KubeObject, WatchEvent } from '../../../lib/kube/types.js'
import { EventBatch } from '../../../lib/sync/event-batch.js'

const obj = (uid: string, resourceVersion: string): KubeObject => ({
  metadata: { uid, name: uid, resourceVersion },
})
const ev = (type: WatchEvent['type'], uid: string, rv: string): WatchEvent => ({
  type,
  object: obj(uid, rv),
})

describe('EventBatch', () => {
  it('coalesces several events of one object to its last state', () => {
    const b = new EventBatch()
    b.add(ev('ADDED', 'a', '1'))
    b.add(ev('MODIFIED', 'a', '2'))
    b.add(ev('MODIFIED', 'a', '3'))
    const { ops, events, resourceVersion } = b.take()
    expect(ops).toEqual([{ type: 'upsert', object: obj('a', '3') }])
    expect(events).toBe(3)
    expect(resourceVersion).toBe('3')
  })

  it('turns a deletion into a delete at the event version, even after earlier changes', () => {
    const b = new EventBatch()
    b.add(ev('ADDED', 'a', '1'))
    b.add(ev('DELETED', 'a', '4'))
    expect(b.take().ops).toEqual([{ type: 'delete', uid: 'a', deletedAtResourceVersion: '4' }])
  })

  it('lets a bookmark advance the covered version without writing anything', () => {
    const b = new EventBatch()
    b.add(ev('MODIFIED', 'a', '5'))
    b.add({ type: 'BOOKMARK', object: { metadata: { uid: '', name: '', resourceVersion: '9' } } })
    const taken = b.take()
    expect(taken.ops).toHaveLength(1)
    expect(taken.events).toBe(1)
    expect(taken.resourceVersion).toBe('9')
  })

  it('is empty after a take', () => {
    const b = new EventBatch()
    b.add(ev('ADDED', 'a', '1'))
    b.take()
    expect(b.size).toBe(0)
    expect(b.take()).toEqual({ ops: [], events: 0, resourceVersion: undefined })
  })
})
