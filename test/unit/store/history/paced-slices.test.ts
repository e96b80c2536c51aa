import { describe, expect, it } from 'vitest'

import { DeadlineError } from '../../../../lib/errors.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import type { Pacing } from '../../../../lib/store/writes/adaptive-pacing.js'
import { inPacedSlices, type SlicePolicy } from '../../../../lib/store/history/paced-slices.js'

/** A pacing that allows `concurrency` in flight and counts what it is told. */
function countingPacing(concurrency: number) {
  const observed: { failed: boolean }[] = []
  const pacing: Pacing = {
    concurrency: () => concurrency,
    delayMs: () => 0,
    observe: (o) => {
      observed.push({ failed: o.failed })
      return false
    },
  }
  return { pacing, observed }
}

const policyWith = (pacing: Pacing, maxAttempts = 3): SlicePolicy => ({
  resource: 'v1/configmaps',
  batchSize: 2,
  retry: { maxAttempts, initialDelayMs: 1, maxDelayMs: 1, backoffMultiplier: 1 },
  guard: unguarded,
  pacing,
})

const transient = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

describe('history slices: chunked, paced and retried like the inventory writer', () => {
  it('runs slices of BULK_WRITE_BATCH_SIZE, no more in flight than the pacing allows, results in item order', async () => {
    const { pacing } = countingPacing(2)
    let inFlight = 0
    let most = 0
    const seen: number[][] = []
    const result = await inPacedSlices(
      policyWith(pacing),
      [1, 2, 3, 4, 5],
      'read',
      undefined,
      async (slice) => {
        seen.push(slice)
        most = Math.max(most, ++inFlight)
        await new Promise((resolve) => setTimeout(resolve, 5))
        inFlight--
        return slice.map((n) => n * 10)
      },
    )
    expect(seen).toEqual([[1, 2], [3, 4], [5]])
    expect(most).toBe(2)
    expect(result).toEqual([10, 20, 30, 40, 50])
  })

  it('retries a slice alone after a transient error and tells the pacing of every attempt', async () => {
    const { pacing, observed } = countingPacing(1)
    const attempts = new Map<number, number>()
    const result = await inPacedSlices(
      policyWith(pacing),
      [1, 2, 3],
      'insert',
      undefined,
      (slice) => {
        const n = (attempts.get(slice[0]!) ?? 0) + 1
        attempts.set(slice[0]!, n)
        if (slice[0] === 3 && n === 1) return Promise.reject(transient())
        return Promise.resolve(slice)
      },
    )
    expect(result).toEqual([1, 2, 3])
    expect(Object.fromEntries(attempts)).toEqual({ 1: 1, 3: 2 })
    expect(observed).toEqual([{ failed: false }, { failed: true }, { failed: false }])
  })

  it('fails the call when a slice fails after its retries, so nothing after it runs', async () => {
    const { pacing } = countingPacing(1)
    await expect(
      inPacedSlices(policyWith(pacing, 2), [1, 2, 3], 'insert history', undefined, (slice) =>
        slice[0] === 3 ? Promise.reject(transient()) : Promise.resolve(slice),
      ),
    ).rejects.toThrow('read ECONNRESET')
  })

  it('fails the call, naming what was left, when the deadline kept slices from starting', async () => {
    const { pacing } = countingPacing(1)
    const deadline = new AbortController()
    const call = inPacedSlices(
      policyWith(pacing),
      [1, 2, 3, 4, 5],
      'insert history',
      deadline.signal,
      (slice) => {
        deadline.abort()
        return Promise.resolve(slice)
      },
    )
    await expect(call).rejects.toBeInstanceOf(DeadlineError)
    await expect(call).rejects.toThrow(
      'insert history for v1/configmaps stopped by the deadline: 2 of 3 slices not started',
    )
  })
})
