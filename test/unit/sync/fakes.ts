import type { KubeObject, ListPage, ResolvedResource, WatchEvent } from '../../../lib/kube/types.js'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { isNewer } from '../../../lib/store/documents/resource-version.js'
import type { WriteCounts, WriteOp } from '../../../lib/store/writes/write-op.js'
import { emptyCounts } from '../../../lib/store/writes/write-op.js'
import type { ClusterSource, ListOptions, WatchOptions } from '../../../lib/kube/cluster-source.js'
import type { WatchWindowResult } from '../../../lib/kube/watcher.js'
import type { ResourceStore } from '../../../lib/store/resource-store.js'
import type { RunCounts, SyncState } from '../../../lib/store/bookkeeping/sync-state.js'

export const resolvedConfigMaps: ResolvedResource = {
  ref: parseResourceRef('v1/configmaps')!,
  kind: 'ConfigMap',
  namespaced: true,
  apiVersion: 'v1',
}

export const cm = (uid: string, rv: string, namespace = 'ns'): KubeObject => ({
  metadata: { uid, name: uid, namespace, resourceVersion: rv },
})

/** An in-memory store with the same compare-and-swap rules as the real one. */
export class FakeStore implements ResourceStore {
  docs = new Map<string, string>()
  tombstones = new Set<string>()
  state: Partial<SyncState> = {}
  writes: WriteOp[][] = []
  checkpoints: string[] = []
  lease: string | undefined
  failWritesAfter = Infinity
  /** uids the "server" refuses: dead-lettered, never stored. */
  refuse = new Set<string>()
  /** uids dead-lettered so far, with their failures (the fake's sync_dead_letters). */
  deadLetters = new Map<string, number>()

  ensureIndexes() {
    return Promise.resolve()
  }
  loadVersions() {
    return Promise.resolve(new Map(this.docs))
  }
  savedVersions: Array<Map<string, string>> = []
  saveVersions(versions: ReadonlyMap<string, string>) {
    this.savedVersions.push(new Map(versions))
    return Promise.resolve()
  }
  write(ops: WriteOp[]): Promise<WriteCounts> {
    if (this.writes.length >= this.failWritesAfter) return Promise.reject(new Error('write failed'))
    this.writes.push(ops)
    const c: WriteCounts = emptyCounts()
    for (const op of ops) {
      if (op.type === 'delete') {
        this.tombstones.add(op.uid)
        if (this.docs.delete(op.uid)) c.deleted++
        continue
      }
      const { uid, resourceVersion } = op.object.metadata
      const stored = this.docs.get(uid)
      if (this.refuse.has(uid)) {
        this.deadLetters.set(uid, (this.deadLetters.get(uid) ?? 0) + 1)
        c.deadLettered++
      } else if (this.tombstones.has(uid)) c.skippedByGuard++
      else if (stored === undefined) {
        this.docs.set(uid, resourceVersion)
        c.inserted++
      } else if (isNewer(resourceVersion, stored)) {
        this.docs.set(uid, resourceVersion)
        c.updated++
      } else c.skippedByGuard++
    }
    return Promise.resolve(c)
  }
  pruneTombstones() {
    return Promise.resolve()
  }
  prunedDeadLetters: Array<ReadonlySet<string>> = []
  pruneDeadLetters(seen: ReadonlySet<string>) {
    this.prunedDeadLetters.push(new Set(seen))
    for (const uid of this.deadLetters.keys()) if (!seen.has(uid)) this.deadLetters.delete(uid)
    return Promise.resolve()
  }
  getState(): Promise<SyncState> {
    return Promise.resolve({
      _id: 'c/v1/configmaps',
      cluster: 'c',
      resource: 'v1/configmaps',
      ...this.state,
    })
  }
  saveListCheckpoint(rv: string, _counts: RunCounts) {
    this.checkpoints.push(`list:${rv}`)
    this.state = {
      ...this.state,
      listResourceVersion: rv,
      watchResourceVersion: rv,
      needsRelist: false,
    }
    return Promise.resolve()
  }
  saveWatchCheckpoint(rv: string) {
    this.checkpoints.push(`watch:${rv}`)
    this.state = { ...this.state, watchResourceVersion: rv }
    return Promise.resolve()
  }
  markNeedsRelist() {
    this.state = { ...this.state, needsRelist: true }
    return Promise.resolve()
  }
  recordError(message: string) {
    this.state = { ...this.state, lastError: { message, at: new Date() } }
    return Promise.resolve()
  }
  acquireLease(owner: string) {
    if (this.lease && this.lease !== owner) return Promise.resolve(false)
    this.lease = owner
    return Promise.resolve(true)
  }
  releaseLease(owner: string) {
    if (this.lease === owner) this.lease = undefined
    return Promise.resolve()
  }
}

export type PageScript = Array<(Partial<ListPage> & { items: KubeObject[] }) | Error>

/** A source that serves scripted pages, and scripted watch windows. */
export class FakeSource implements ClusterSource {
  constructor(
    public pages: PageScript = [],
    public windows: Array<{ events: WatchEvent[]; result: Partial<WatchWindowResult> }> = [],
  ) {}
  watchedFrom: string[] = []

  resolve() {
    return Promise.resolve(resolvedConfigMaps)
  }

  async *listPages(_r: ResolvedResource, options: ListOptions): AsyncIterable<ListPage> {
    let n = 0
    for (const p of this.pages) {
      await Promise.resolve()
      if (options.signal.aborted) throw options.signal.reason
      if (p instanceof Error) throw p
      n++
      yield { page: n, listResourceVersion: '100', consistent: true, restarted: false, ...p }
    }
  }

  async *watch(
    _r: ResolvedResource,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, WatchWindowResult> {
    this.watchedFrom.push(options.fromResourceVersion)
    const w = this.windows.shift() ?? { events: [], result: {} }
    let last = options.fromResourceVersion
    for (const e of w.events) {
      await Promise.resolve()
      last = e.object.metadata.resourceVersion
      yield e
    }
    return {
      outcome: 'window-ended',
      events: w.events.length,
      bookmarks: 0,
      reconnects: 0,
      resourceVersion: last,
      ...w.result,
    }
  }
}
