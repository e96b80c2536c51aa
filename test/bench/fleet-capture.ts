import { Collection } from 'mongodb'

/*
 * What the bench observes of the workers it runs in its own process, without
 * a hook in lib/: the `task.started` log lines (each names its message id and
 * carries Powertools' millisecond timestamp), and the moment a lease claim is
 * acknowledged (the insert into sync_leases that decides the lease:
 * lib/store/bookkeeping/lease.ts), by owner (`reconcileWorker/<request id>`),
 * through a wrapper around the driver's Collection.insertOne.
 */

export interface WorkerCapture {
  /** messageId -> epoch ms of its `task.started` line. */
  readonly taskStarted: Map<string, number>
  /** lease owner (`reconcileWorker/<request id>`, its `#n` suffix left out) -> epoch ms at which its first claim insert was acknowledged. */
  readonly leaseAcquired: Map<string, number>
  /** ERROR lines, shortened, for the bench's stderr. */
  readonly errors: string[]
  restore(): void
}

type Write = typeof process.stdout.write

function readLine(line: string, capture: WorkerCapture): void {
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(line) as Record<string, unknown>
  } catch {
    return
  }
  if (parsed.event === 'task.started' && typeof parsed.messageId === 'string') {
    capture.taskStarted.set(parsed.messageId, Date.parse(String(parsed.timestamp)))
  }
  if (parsed.level === 'ERROR') capture.errors.push(line.slice(0, 600))
}

/**
 * Swallows every JSON line written to stdout (log lines and EMF metrics: the
 * bench's stdout carries only its table and JSON) and reads the ones above.
 */
export function captureWorkers(): WorkerCapture {
  const original: Write = process.stdout.write.bind(process.stdout)
  const collection = Collection.prototype as unknown as {
    insertOne: (this: Collection, doc: unknown, ...rest: unknown[]) => Promise<unknown>
  }
  const insertOne = collection.insertOne
  const capture: WorkerCapture = {
    taskStarted: new Map(),
    leaseAcquired: new Map(),
    errors: [],
    restore() {
      process.stdout.write = original
      collection.insertOne = insertOne
    },
  }
  process.stdout.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : ''
    if (!text.startsWith('{')) return (original as (...a: unknown[]) => boolean)(chunk, ...rest)
    for (const line of text.split('\n')) if (line.trim()) readLine(line, capture)
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined
    if (callback) queueMicrotask(callback)
    return true
  }
  collection.insertOne = async function (this: Collection, doc: unknown, ...rest: unknown[]) {
    const result = await insertOne.call(this, doc, ...rest)
    const owner = (doc as { owner?: unknown } | null)?.owner
    if (this.collectionName === 'sync_leases' && typeof owner === 'string') {
      const invocation = owner.replace(/#\d+$/, '')
      if (!capture.leaseAcquired.has(invocation)) capture.leaseAcquired.set(invocation, Date.now())
    }
    return result
  }
  return capture
}
