import { sleep } from '../../retry.js'

/** A setting, or a getter read before every start (adaptive pacing changes it while chunks run). */
type Live = number | (() => number)
const read = (value: Live): number => (typeof value === 'number' ? value : value())

export interface PacingOptions {
  /** At most this many tasks in flight (BULK_WRITE_MAX_CONCURRENT). */
  readonly maxConcurrent: Live
  /** At least this long between two task starts (BULK_WRITE_BATCH_DELAY_MS). */
  readonly delayMs: Live
  /** Once aborted, no further task starts; tasks in flight run to their end. */
  readonly signal?: AbortSignal
}

export interface PacedOutcome {
  /** Tasks that were started (a prefix of 0..count-1). */
  readonly started: number
  /** Errors of the tasks that failed, by task index. */
  readonly failures: ReadonlyMap<number, unknown>
}

/**
 * Runs tasks 0..count-1 in order with bounded concurrency and spaced starts:
 * the delay between batches (BULK_WRITE_BATCH_DELAY_MS) keeps a burst of chunks from overwhelming
 * the server, the bound keeps the pool (MONGO_POOL_MAX) from being exhausted.
 *
 * A failure stops new starts too (the caller reports it; later chunks would
 * only add writes to a run that is already going to be repeated), while tasks
 * in flight finish so their writes are acknowledged or surely failed.
 */
export async function runPaced(
  count: number,
  options: PacingOptions,
  task: (index: number) => Promise<void>,
): Promise<PacedOutcome> {
  const { maxConcurrent, delayMs, signal } = options
  const inFlight = new Set<Promise<void>>()
  const failures = new Map<number, unknown>()
  let started = 0
  let lastStart: number | undefined

  for (let index = 0; index < count; index++) {
    while (inFlight.size >= Math.max(1, read(maxConcurrent))) await Promise.race(inFlight)
    if (signal?.aborted || failures.size > 0) break
    const delay = read(delayMs)
    if (lastStart !== undefined && delay > 0) {
      const wait = delay - (Date.now() - lastStart)
      if (wait > 0) {
        try {
          await sleep(wait, signal)
        } catch {
          break // aborted while pacing
        }
      }
      if (failures.size > 0) break
    }
    lastStart = Date.now()
    started++
    const running: Promise<void> = task(index)
      .catch((error: unknown) => {
        failures.set(index, error)
      })
      .finally(() => inFlight.delete(running))
    inFlight.add(running)
  }
  await Promise.all(inFlight)
  return { started, failures }
}
