import type { WatchEvent } from '../kube/types.js'
import type { WriteOp } from '../store/writes/write-op.js'

/** An event as history records it: when it arrived is when it was observed. */
export interface ObservedEvent {
  readonly event: WatchEvent
  readonly receivedAt: number
}

/**
 * Watch events waiting for the next flush, coalesced per object: a burst of
 * changes to one object costs one write of its last state. Order across
 * objects does not matter (every write is guarded by resourceVersion), so
 * only the last event per uid is kept. A resource under history also keeps
 * every event, in order (`keepEvents`): its history is built from them, before
 * coalescing (lib/store/history/).
 */
export class EventBatch {
  readonly #byUid = new Map<string, WriteOp>()
  readonly #keepEvents: boolean
  #observed: ObservedEvent[] = []
  #events = 0
  #lastResourceVersion: string | undefined
  #oldestEventAt: number | undefined

  constructor(keepEvents = false) {
    this.#keepEvents = keepEvents
  }

  /** `receivedAt` (ms) feeds the event lag: the oldest event's wait is the batch's worst. */
  add(event: WatchEvent, receivedAt: number = Date.now()): void {
    const { uid, resourceVersion } = event.object.metadata
    this.#lastResourceVersion = resourceVersion
    if (event.type === 'BOOKMARK') return
    this.#events++
    this.#oldestEventAt ??= receivedAt
    if (this.#keepEvents) this.#observed.push({ event, receivedAt })
    this.#byUid.set(
      uid,
      event.type === 'DELETED'
        ? { type: 'delete', uid, deletedAtResourceVersion: resourceVersion }
        : { type: 'upsert', object: event.object },
    )
  }

  /** Events (not bookmarks) added since the last take. */
  get events(): number {
    return this.#events
  }

  /** Distinct objects to write. */
  get size(): number {
    return this.#byUid.size
  }

  /** The resourceVersion the batch covers once its writes are acknowledged. */
  get lastResourceVersion(): string | undefined {
    return this.#lastResourceVersion
  }

  /** Hands out the coalesced writes and their covering resourceVersion, and empties the batch. */
  take(): {
    ops: WriteOp[]
    /** Every event (not bookmark) in order; only with `keepEvents`. */
    observed?: ObservedEvent[]
    events: number
    resourceVersion: string | undefined
    oldestEventAt: number | undefined
  } {
    const taken = {
      ops: [...this.#byUid.values()],
      ...(this.#keepEvents ? { observed: this.#observed } : {}),
      events: this.#events,
      resourceVersion: this.#lastResourceVersion,
      oldestEventAt: this.#oldestEventAt,
    }
    this.#byUid.clear()
    this.#observed = []
    this.#events = 0
    this.#lastResourceVersion = undefined
    this.#oldestEventAt = undefined
    return taken
  }
}
