import { KubeApiError } from '../../../../lib/kube/errors.js'
import type { WatchStreamRequest } from '../../../../lib/kube/operations.js'
import type { WatchEvent, WatchEventType } from '../../../../lib/kube/types.js'
import { configMap } from './resources.js'

/** How one watch connection behaves. */
export type ConnectionPlan =
  /** The request itself fails (socket error, HTTP error). */
  | { readonly fail: Error }
  | {
      /** How many of the pending events to send (default all). */
      readonly deliver?: number
      /** A BOOKMARK at this resourceVersion after the events. */
      readonly bookmark?: string
      /** Then: a socket cut, a clean close at once, the server's timeout, silence, or 410 Gone. */
      readonly then: 'cut' | 'end-early' | 'timeout' | 'hang' | 'gone'
      /** Wait this long before `then` (default 0). */
      readonly afterMs?: number
    }

/**
 * An in-memory watch endpoint with the server's rules: events are sent
 * strictly after the requested resourceVersion, in order; a version older
 * than the retained history is 410 Gone (an ERROR event); an empty version is
 * refused (it would mean "any state", not a replay); the stream ends after
 * `timeoutSeconds` unless the plan says otherwise.
 */
export class FakeWatchServer {
  readonly requests: WatchStreamRequest[] = []
  readonly aborted: boolean[] = []
  private readonly log: WatchEvent[] = []
  private readonly plans: ConnectionPlan[] = []
  private revision = 1000
  private oldestRetained = 0

  /** Appends an event to the history; returns its resourceVersion. */
  add(type: Exclude<WatchEventType, 'BOOKMARK'>, name: string): string {
    this.revision++
    this.log.push({ type, object: configMap(name, 'a', String(this.revision)) })
    return String(this.revision)
  }

  /** Forget history up to now (etcd compaction): older versions are 410. */
  compact(): void {
    this.oldestRetained = this.revision
  }

  plan(...plans: ConnectionPlan[]): void {
    this.plans.push(...plans)
  }

  readonly watch = async (request: WatchStreamRequest): Promise<AsyncIterable<WatchEvent>> => {
    await Promise.resolve()
    const index = this.requests.push(request) - 1
    request.signal.addEventListener('abort', () => (this.aborted[index] = true))
    if (!request.resourceVersion) throw new Error('fake: a replay needs a resourceVersion')
    if (!(request.timeoutSeconds >= 1)) throw new Error('fake: timeoutSeconds must be >= 1')
    const plan = this.plans.shift() ?? { then: 'timeout' }
    if ('fail' in plan) throw plan.fail
    const from = Number(request.resourceVersion)
    if (from < this.oldestRetained) return stream([], 'gone', 0, request)
    const pending = this.log.filter((e) => Number(e.object.metadata.resourceVersion) > from)
    const events = pending.slice(0, plan.deliver ?? pending.length)
    if (plan.bookmark) events.push(bookmark(plan.bookmark))
    return stream(events, plan.then, plan.afterMs ?? 0, request)
  }
}

function bookmark(resourceVersion: string): WatchEvent {
  return { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion } } as never }
}

async function* stream(
  events: WatchEvent[],
  then: Exclude<ConnectionPlan, { fail: Error }>['then'],
  afterMs: number,
  request: WatchStreamRequest,
): AsyncGenerator<WatchEvent> {
  for (const event of events) {
    await Promise.resolve()
    if (request.signal.aborted) throw abortError()
    yield structuredClone(event)
  }
  if (afterMs > 0) await wait(afterMs, request.signal)
  switch (then) {
    case 'cut':
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    case 'end-early':
      return
    case 'timeout':
      await wait(request.timeoutSeconds * 1000 - afterMs, request.signal)
      return
    case 'hang':
      await wait(undefined, request.signal)
      return
    case 'gone': {
      const status = {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      }
      throw new KubeApiError('watch', 410, status)
    }
  }
}

function wait(ms: number | undefined, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError())
    const timer = ms === undefined ? undefined : setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(abortError())), {
      once: true,
    })
  })
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' })
}
