import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NotRetriedError } from '../../../lib/errors.js'
import { classify } from '../../../lib/classify.js'
import { KubeApiError } from '../../../lib/kube/errors.js'
import {
  Breakers,
  CircuitOpenError,
  countsAsFailure,
  isCircuitOpen,
} from '../../../lib/resilience/circuit-breaker.js'

const config = {
  features: { circuitBreaker: true },
  breaker: { failureThreshold: 3, halfOpenAfterMs: 1_000 },
}
/** A container's breakers: each test starts with fresh ones, as a new container would. */
let breakers = new Breakers(config)

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
const failing = () => Promise.reject(reset())

async function failTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await breakers.guard('mongodb', failing).catch(() => undefined)
}

describe('circuit breaker', () => {
  beforeEach(() => {
    breakers = new Breakers(config)
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('opens after the configured consecutive failures and then refuses calls without making them', async () => {
    await failTimes(3)
    const call = vi.fn(() => Promise.resolve('ok'))
    const refused = await breakers.guard('mongodb', call).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(CircuitOpenError)
    expect(call).not.toHaveBeenCalled()
    expect((refused as CircuitOpenError).message).toMatch(
      /MongoDB circuit breaker is open after 3 consecutive failures; next probe at .*; last error: read ECONNRESET/,
    )
  })

  it('stays closed when a success breaks the run of failures', async () => {
    await failTimes(2)
    await breakers.guard('mongodb', () => Promise.resolve(1))
    await failTimes(2)
    await expect(breakers.guard('mongodb', () => Promise.resolve(2))).resolves.toBe(2)
  })

  it('keeps one breaker per dependency', async () => {
    await failTimes(3)
    await expect(breakers.guard('kubernetes', () => Promise.resolve('up'))).resolves.toBe('up')
  })

  it('lets one probe through after the cool-off and closes when it succeeds', async () => {
    await failTimes(3)
    await vi.advanceTimersByTimeAsync(1_001)
    const probe = vi.fn(() => Promise.resolve('back'))
    await expect(breakers.guard('mongodb', probe)).resolves.toBe('back')
    expect(probe).toHaveBeenCalledOnce()
    expect(breakers.snapshots()).toContainEqual({
      dependency: 'mongodb',
      state: 'closed',
      opens: 1,
      failures: 3,
    })
  })

  it('opens again at once when the probe fails', async () => {
    await failTimes(3)
    await vi.advanceTimersByTimeAsync(1_001)
    await failTimes(1)
    await expect(breakers.guard('mongodb', () => Promise.resolve(1))).rejects.toBeInstanceOf(
      CircuitOpenError,
    )
    expect(breakers.takeOpens()).toEqual({ kubernetes: 0, mongodb: 2 })
    expect(breakers.takeOpens()).toEqual({ kubernetes: 0, mongodb: 0 })
  })

  it('does not count answers of a healthy server as failures', () => {
    expect(countsAsFailure(new KubeApiError('list', 403, 'forbidden'))).toBe(false)
    expect(countsAsFailure(new KubeApiError('list', 410, 'gone'))).toBe(false)
    expect(countsAsFailure(new KubeApiError('list', 429, 'slow down'))).toBe(false)
    expect(countsAsFailure(new KubeApiError('list', 503, 'unavailable'))).toBe(true)
    expect(countsAsFailure(reset())).toBe(true)
  })

  it('is never retried within a run', async () => {
    await failTimes(3)
    const refused = await breakers.guard('mongodb', failing).catch((e: unknown) => e)
    expect(classify(refused)).toEqual({ kind: 'fatal', reason: 'circuit-open' })
    // By its class: a CircuitOpenError is one of the errors classify() never retries.
    expect(refused).toBeInstanceOf(NotRetriedError)
  })

  it('passes every call through when ENABLE_CIRCUIT_BREAKER is false', async () => {
    const off = new Breakers({ ...config, features: { circuitBreaker: false } })
    for (let i = 0; i < 5; i++) await off.guard('mongodb', failing).catch(() => undefined)
    await expect(off.guard('mongodb', () => Promise.resolve('ok'))).resolves.toBe('ok')
  })
})

describe('isCircuitOpen', () => {
  it('finds a refused call inside the errors that wrap it', async () => {
    breakers = new Breakers(config)
    await failTimes(3)
    const refused = await breakers.guard('mongodb', failing).catch((e: unknown) => e)
    const wrapped = new Error('bulk write chunk 1/1 failed', { cause: refused })
    expect(isCircuitOpen(wrapped)).toBe(true)
    expect(isCircuitOpen(new Error('other', { cause: reset() }))).toBe(false)
  })
})
