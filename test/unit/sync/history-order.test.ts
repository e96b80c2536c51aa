import { describe, expect, it } from 'vitest'
import type { HistorySource } from '../../../lib/store/history/history-document.js'
import type { HistoryChange } from '../../../lib/store/history/history-writer.js'
import type { RunCounts } from '../../../lib/store/bookkeeping/sync-state.js'
import type { DeadLetterSource } from '../../../lib/store/bookkeeping/dead-letters.js'
import type { WriteOp } from '../../../lib/store/writes/write-op.js'
import { BatchFlusher } from '../../../lib/sync/batch-flusher.js'
import { PassWrites } from '../../../lib/sync/pass-writes.js'
import { newWatchReport } from '../../../lib/sync/watch-resource.js'
import { FakeStore } from './fake-store.js'
import { cm } from './fakes.js'

/*
 * Object history's place in the write path (lib/store/history/): built from
 * every event in order, before the writer coalesces them, and recorded before
 * the inventory write and the checkpoint that covers it.
 */

class HistoryStore extends FakeStore {
  readonly calls: string[] = []
  readonly recorded: HistoryChange[][] = []
  /** What each write was handed of the history's read. */
  readonly known: Array<ReadonlyMap<string, string | null> | undefined> = []
  /** The stored versions the history read (`<cluster>/<uid>` -> version). */
  readonly read = new Map<string, string | null>([['test/u1', '10']])

  recordHistory(changes: readonly HistoryChange[], source: HistorySource) {
    this.calls.push(`history:${source}`)
    this.recorded.push([...changes])
    return Promise.resolve({ written: changes.length, incomplete: 1, read: this.read })
  }
  override write(
    ops: WriteOp[],
    signal?: AbortSignal,
    source?: DeadLetterSource,
    known?: ReadonlyMap<string, string | null>,
  ) {
    this.calls.push('write')
    this.known.push(known)
    return super.write(ops, signal, source)
  }
  override saveWatchCheckpoint(rv: string, counts: RunCounts) {
    this.calls.push(`checkpoint:${rv}`)
    return super.saveWatchCheckpoint(rv, counts)
  }
}

/** A history store whose every record fails, as after every retry (the server refusing one version). */
class FailingHistoryStore extends HistoryStore {
  override recordHistory(changes: readonly HistoryChange[], source: HistorySource) {
    this.calls.push(`history:${source}`)
    return Promise.reject(new Error('history insert refused'))
  }
}

async function leased<T extends FakeStore>(store: T): Promise<T> {
  await store.acquireLease('test', 60_000)
  return store
}

describe('history in the write path', () => {
  it('records five events of one object, in order, before their one coalesced write and the checkpoint', async () => {
    const store = await leased(new HistoryStore())
    const report = newWatchReport('v1/configmaps', 'complete')
    const flusher = new BatchFlusher(
      store,
      report,
      new AbortController(),
      new AbortController().signal,
    )
    for (const rv of ['11', '12', '13', '14', '15'])
      flusher.add({ type: 'MODIFIED', object: cm('u1', rv) })
    await flusher.flush()

    expect(store.calls).toEqual(['history:watch', 'write', 'checkpoint:15'])
    // The write takes the versions the history read instead of reading them again.
    expect(store.known).toEqual([store.read])
    expect(
      store.recorded[0]!.map((c) => ('object' in c ? c.object.metadata.resourceVersion : '')),
    ).toEqual(['11', '12', '13', '14', '15'])
    expect(store.recorded[0]!.every((c) => 'observedAt' in c && c.observedAt instanceof Date)).toBe(
      true,
    )
    expect(store.writes[0]).toHaveLength(1)
    expect(report).toMatchObject({ historyWritten: 5, historyIncomplete: 1, updated: 0 })
  })

  it('records nothing and keeps no events for a resource not under history', async () => {
    const store = await leased(new FakeStore())
    const report = newWatchReport('v1/configmaps', 'complete')
    const flusher = new BatchFlusher(
      store,
      report,
      new AbortController(),
      new AbortController().signal,
    )
    flusher.add({ type: 'ADDED', object: cm('u1', '11') })
    await flusher.flush()
    expect(store.writes).toHaveLength(1)
    expect(report).toMatchObject({ historyWritten: 0, historyIncomplete: 0 })
  })

  it('records a list pass’s inserts, replaces and deletes before writing them, and nothing on a dry run', async () => {
    const store = await leased(new HistoryStore())
    const ops: WriteOp[] = [
      { type: 'insert', object: cm('u1', '5') },
      { type: 'replace', object: cm('u2', '6'), expectedResourceVersion: '4' },
      { type: 'delete', uid: 'u3', expectedResourceVersion: '3', deletedAtResourceVersion: '9' },
    ]
    const writes = new PassWrites(store, new AbortController().signal)
    await writes.write(ops)
    expect(store.calls).toEqual(['history:reconcile', 'write'])
    expect(store.recorded[0]).toEqual([
      { type: 'ADDED', object: cm('u1', '5'), unstored: true },
      { type: 'MODIFIED', object: cm('u2', '6') },
      { type: 'DELETED', uid: 'u3', resourceVersion: '9' },
    ])
    expect(writes.history).toEqual({ written: 3, incomplete: 1 })

    const dry = await leased(new HistoryStore())
    await new PassWrites(dry, new AbortController().signal, true).write(ops)
    expect(dry.calls).toEqual([])
  })

  it('moves neither the inventory nor the checkpoint past a history record that failed, and ends the flushing', async () => {
    const store = await leased(new FailingHistoryStore())
    const report = newWatchReport('v1/configmaps', 'complete')
    const stop = new AbortController()
    const flusher = new BatchFlusher(store, report, stop, new AbortController().signal)
    flusher.add({ type: 'MODIFIED', object: cm('u1', '11') })
    await flusher.flush()
    // docs/design.md#invariant-5-checkpoints-after-writes: no inventory write, no checkpoint.
    expect(store.calls).toEqual(['history:watch'])
    expect(store.writes).toHaveLength(0)
    expect(report.resourceVersion).toBeUndefined()
    expect(flusher.failure).toBeDefined()
    expect(stop.signal.aborted).toBe(true)
    // A later batch of the same window writes nothing either: the next window replays both.
    flusher.add({ type: 'MODIFIED', object: cm('u1', '12') })
    await flusher.flush()
    expect(store.calls).toEqual(['history:watch'])
  })

  it('writes nothing of a list pass whose history record failed', async () => {
    const store = await leased(new FailingHistoryStore())
    const writes = new PassWrites(store, new AbortController().signal)
    await expect(
      writes.write([{ type: 'replace', object: cm('u2', '6'), expectedResourceVersion: '4' }]),
    ).rejects.toThrow('history insert refused')
    expect(store.calls).toEqual(['history:reconcile'])
    expect(store.writes).toHaveLength(0)
  })
})
