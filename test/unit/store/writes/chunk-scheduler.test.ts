import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { runPaced } from '../../../../lib/store/writes/chunk-scheduler.js'

/** Tasks that finish when the test says so, recording when each started. */
function controllableTasks() {
  const starts: Array<{ index: number; at: number }> = []
  const finishers = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>()
  const task = (index: number) =>
    new Promise<void>((resolve, reject) => {
      starts.push({ index, at: Date.now() })
      finishers.set(index, { resolve, reject })
    })
  return { starts, finishers, task }
}

describe('paced chunk runner', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('never has more than maxConcurrent tasks in flight', async () => {
    const { starts, finishers, task } = controllableTasks()
    const run = runPaced(5, { maxConcurrent: 2, delayMs: 0 }, task)
    await vi.advanceTimersByTimeAsync(0)
    expect(starts.map((s) => s.index)).toEqual([0, 1])
    finishers.get(0)!.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(starts.map((s) => s.index)).toEqual([0, 1, 2])
    for (const i of [1, 2, 3, 4]) {
      finishers.get(i)?.resolve()
      await vi.advanceTimersByTimeAsync(0)
    }
    finishers.get(4)!.resolve()
    await expect(run).resolves.toEqual({ started: 5, failures: new Map() })
  })

  it('waits the batch delay between two chunk starts', async () => {
    const { starts, task } = controllableTasks()
    void runPaced(3, { maxConcurrent: 3, delayMs: 100 }, task)
    await vi.advanceTimersByTimeAsync(0)
    expect(starts).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(99)
    expect(starts).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(starts).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(starts.map((s) => s.at - starts[0]!.at)).toEqual([0, 100, 200])
  })

  it('starts no chunk after the signal aborts, and lets the one in flight finish', async () => {
    const { starts, finishers, task } = controllableTasks()
    const controller = new AbortController()
    const run = runPaced(4, { maxConcurrent: 1, delayMs: 0, signal: controller.signal }, task)
    await vi.advanceTimersByTimeAsync(0)
    controller.abort()
    finishers.get(0)!.resolve()
    await expect(run).resolves.toEqual({ started: 1, failures: new Map() })
    expect(starts).toHaveLength(1)
  })

  it('stops starting chunks after one fails and reports the failure', async () => {
    const { starts, finishers, task } = controllableTasks()
    const run = runPaced(4, { maxConcurrent: 2, delayMs: 0 }, task)
    await vi.advanceTimersByTimeAsync(0)
    const boom = new Error('boom')
    finishers.get(0)!.reject(boom)
    await vi.advanceTimersByTimeAsync(0)
    finishers.get(1)!.resolve()
    const outcome = await run
    expect(starts).toHaveLength(2)
    expect(outcome.failures.get(0)).toBe(boom)
  })
})
