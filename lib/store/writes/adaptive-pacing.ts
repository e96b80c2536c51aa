import { isTransient } from '../../classify.js'
import type { Config } from '../../config.js'
import { logger } from '../../log.js'

/*
 * Adaptive pacing (docs/resilience.md#adaptive-pacing), for bulk writes: while MongoDB is slow
 * or failing, fewer chunks in flight and longer gaps between them; while it
 * is healthy, step back to the configured BULK_WRITE_* settings. It never
 * goes past them: concurrency stays within 1..BULK_WRITE_MAX_CONCURRENT and
 * the delay within BULK_WRITE_BATCH_DELAY_MS..PACING_MAX_DELAY_MS.
 *
 * Multiplicative decrease, additive increase (as TCP does), so pressure is
 * relieved at once and the return is gradual.
 */

/** Healthy chunks in a row before one step back towards the configured settings. */
export const RECOVERY_STREAK = 2

/** The first step of the delay when the configured delay is 0. */
const MIN_DELAY_STEP_MS = 100

export interface PacingBounds {
  /** BULK_WRITE_MAX_CONCURRENT: the most, and the setting to return to. */
  readonly maxConcurrent: number
  /** BULK_WRITE_BATCH_DELAY_MS: the least, and the setting to return to. */
  readonly minDelayMs: number
  /** PACING_MAX_DELAY_MS (never below minDelayMs). */
  readonly maxDelayMs: number
  /** PACING_LATENCY_TARGET_MS: a chunk attempt slower than this is pressure. */
  readonly latencyTargetMs: number
}

export interface ChunkObservation {
  /** When the attempt started (Date.now()). */
  readonly startedAt: number
  readonly durationMs: number
  /** The attempt failed with a transient error (a fatal one says nothing about load). */
  readonly failed: boolean
}

export interface Pacing {
  /** Chunks allowed in flight now. */
  concurrency(): number
  /** Gap between chunk starts now. */
  delayMs(): number
  /** Feeds one chunk attempt's outcome; true when it made pacing slow down. */
  observe(observation: ChunkObservation): boolean
}

/** The configured settings, fixed: what ENABLE_ADAPTIVE_PACING=false means. */
export function fixedPacing(maxConcurrent: number, delayMs: number): Pacing {
  return { concurrency: () => maxConcurrent, delayMs: () => delayMs, observe: () => false }
}

/**
 * Runs one attempt (a chunk, a slice of history) and tells `pacing` how long it
 * took and whether it failed; `onSlowdown` when that made the pacing slow down.
 */
export async function observedAttempt<T>(
  pacing: Pacing,
  attempt: () => Promise<T>,
  onSlowdown?: () => void,
): Promise<T> {
  const startedAt = Date.now()
  let failed = false
  try {
    return await attempt()
  } catch (error) {
    // A fatal error says nothing about load.
    failed = isTransient(error)
    throw error
  } finally {
    if (pacing.observe({ startedAt, durationMs: Date.now() - startedAt, failed })) onSlowdown?.()
  }
}

export class AdaptivePacing implements Pacing {
  readonly bounds: PacingBounds
  private current: { concurrency: number; delayMs: number }
  private healthyStreak = 0
  /** Attempts started before the last slowdown already felt that pressure: they do not count twice. */
  private lastSlowdownAt = -Infinity
  private readonly now: () => number

  constructor(bounds: PacingBounds, now: () => number = Date.now) {
    this.bounds = { ...bounds, maxDelayMs: Math.max(bounds.maxDelayMs, bounds.minDelayMs) }
    this.current = { concurrency: bounds.maxConcurrent, delayMs: bounds.minDelayMs }
    this.now = now
  }

  concurrency(): number {
    return this.current.concurrency
  }

  delayMs(): number {
    return this.current.delayMs
  }

  get slowed(): boolean {
    return (
      this.current.concurrency < this.bounds.maxConcurrent ||
      this.current.delayMs > this.bounds.minDelayMs
    )
  }

  observe({ startedAt, durationMs, failed }: ChunkObservation): boolean {
    const slow = durationMs > this.bounds.latencyTargetMs
    if (!failed && !slow) {
      if (++this.healthyStreak >= RECOVERY_STREAK && this.slowed) this.stepBack()
      return false
    }
    this.healthyStreak = 0
    if (startedAt < this.lastSlowdownAt) return false
    return this.slowDown(failed ? 'error' : 'latency', durationMs)
  }

  private slowDown(reason: 'error' | 'latency', durationMs: number): boolean {
    const before = { ...this.current }
    const { maxDelayMs, minDelayMs } = this.bounds
    this.current = {
      concurrency: Math.max(1, Math.floor(before.concurrency / 2)),
      delayMs: Math.min(maxDelayMs, Math.max(before.delayMs * 2, minDelayMs, MIN_DELAY_STEP_MS)),
    }
    this.lastSlowdownAt = this.now()
    if (this.current.concurrency === before.concurrency && this.current.delayMs === before.delayMs)
      return false // already as slow as the bounds allow
    logger.warn(
      `MongoDB under pressure (${reason}): ${this.current.concurrency} chunks in flight, ${this.current.delayMs}ms apart`,
      {
        event: 'pacing.slowed',
        reason,
        durationMs,
        latencyTargetMs: this.bounds.latencyTargetMs,
        from: before,
        to: this.current,
      },
    )
    return true
  }

  private stepBack(): void {
    const before = { ...this.current }
    const { maxConcurrent, minDelayMs } = this.bounds
    const half = Math.floor(before.delayMs / 2)
    this.current = {
      concurrency: Math.min(maxConcurrent, before.concurrency + 1),
      delayMs: half < MIN_DELAY_STEP_MS ? minDelayMs : Math.max(minDelayMs, half),
    }
    this.healthyStreak = 0
    const recovered = !this.slowed
    logger.info(
      recovered
        ? `MongoDB healthy again: back to ${this.current.concurrency} chunks in flight, ${this.current.delayMs}ms apart`
        : `MongoDB healthier: ${this.current.concurrency} chunks in flight, ${this.current.delayMs}ms apart`,
      { event: recovered ? 'pacing.recovered' : 'pacing.eased', from: before, to: this.current },
    )
  }
}

/**
 * The pacing of a container's MongoDB writes: lib/runtime/container.ts keeps
 * one, shared by every resource and kept across warm invocations, since it
 * describes the server, not a run.
 */
export function createPacing(config: Pick<Config, 'bulkWrite' | 'features' | 'pacing'>): Pacing {
  const { maxConcurrent, batchDelayMs } = config.bulkWrite
  if (!config.features.adaptivePacing) return fixedPacing(maxConcurrent, batchDelayMs)
  return new AdaptivePacing({
    maxConcurrent,
    minDelayMs: batchDelayMs,
    maxDelayMs: config.pacing.maxDelayMs,
    latencyTargetMs: config.pacing.latencyTargetMs,
  })
}
