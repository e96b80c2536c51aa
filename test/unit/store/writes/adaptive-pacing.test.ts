import { describe, expect, it } from 'vitest'
import {
  AdaptivePacing,
  createPacing,
  RECOVERY_STREAK,
} from '../../../../lib/store/writes/adaptive-pacing.js'

const bounds = { maxConcurrent: 4, minDelayMs: 100, maxDelayMs: 1_000, latencyTargetMs: 500 }

function pacingWithClock() {
  let now = 0
  const pacing = new AdaptivePacing(bounds, () => now)
  return {
    pacing,
    tick: (ms: number) => (now += ms),
    at: () => now,
  }
}

const healthy = (startedAt: number) => ({ startedAt, durationMs: 50, failed: false })
const slow = (startedAt: number) => ({ startedAt, durationMs: 900, failed: false })
const failed = (startedAt: number) => ({ startedAt, durationMs: 10, failed: true })

describe('adaptive pacing', () => {
  it('starts at the configured settings', () => {
    const { pacing } = pacingWithClock()
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([4, 100])
  })

  it('halves the chunks in flight and doubles the delay when a chunk is slower than the target', () => {
    const { pacing, tick, at } = pacingWithClock()
    tick(10)
    expect(pacing.observe(slow(at()))).toBe(true)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([2, 200])
  })

  it('slows down on a failed chunk too', () => {
    const { pacing, tick, at } = pacingWithClock()
    tick(10)
    expect(pacing.observe(failed(at()))).toBe(true)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([2, 200])
  })

  it('does not slow down twice for chunks that started before the last slowdown', () => {
    const { pacing, tick, at } = pacingWithClock()
    const sameBurst = at()
    tick(10)
    pacing.observe(slow(at()))
    expect(pacing.observe(slow(sameBurst))).toBe(false)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([2, 200])
  })

  it('never goes below one chunk in flight nor above the maximum delay', () => {
    const { pacing, tick, at } = pacingWithClock()
    for (let i = 0; i < 10; i++) {
      tick(10)
      pacing.observe(failed(at()))
    }
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([1, 1_000])
    tick(10)
    expect(pacing.observe(failed(at()))).toBe(false)
  })

  it('steps back to the configured settings after healthy chunks, and no further', () => {
    const { pacing, tick, at } = pacingWithClock()
    tick(10)
    pacing.observe(slow(at()))
    pacing.observe(slow(at() + 1)) // 1 in flight, 400 ms
    const seen: Array<[number, number]> = []
    for (let i = 0; i < RECOVERY_STREAK * 6; i++) {
      tick(10)
      pacing.observe(healthy(at()))
      seen.push([pacing.concurrency(), pacing.delayMs()])
    }
    expect(seen.at(-1)).toEqual([4, 100])
    expect(seen.every(([c, d]) => c <= 4 && d >= 100)).toBe(true)
    // Gradual: one step per streak, not all at once.
    expect(seen[RECOVERY_STREAK - 1]).toEqual([2, 200])
  })

  it('keeps the configured settings fixed when ENABLE_ADAPTIVE_PACING is false', () => {
    const pacing = createPacing({
      bulkWrite: { batchSize: 100, maxConcurrent: 3, batchDelayMs: 100 },
      features: { adaptivePacing: false } as never,
      pacing: { latencyTargetMs: 1, maxDelayMs: 5_000 },
    })
    expect(pacing.observe(failed(0))).toBe(false)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([3, 100])
  })

  it('starts from the configured BULK_WRITE_* settings when ENABLE_ADAPTIVE_PACING is true', () => {
    const pacing = createPacing({
      bulkWrite: { batchSize: 100, maxConcurrent: 3, batchDelayMs: 0 },
      features: { adaptivePacing: true } as never,
      pacing: { latencyTargetMs: 10, maxDelayMs: 5_000 },
    })
    expect(pacing).toBeInstanceOf(AdaptivePacing)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([3, 0])
    // A slow chunk (over the 10 ms target) halves concurrency and starts a delay.
    expect(pacing.observe({ startedAt: Date.now(), durationMs: 50, failed: false })).toBe(true)
    expect([pacing.concurrency(), pacing.delayMs()]).toEqual([1, 100])
  })
})
