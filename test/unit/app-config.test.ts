import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AppConfig } from '../../lib/app-config.js'

/*
 * The fault-tolerance contract's facade (docs/resilience.md): code written
 * against `AppConfig.retryWithBackoff(fn, 'Operation', { isFatal })` works
 * unchanged, with the configured RETRY_* values (their defaults here: 5
 * attempts, 1 s, x2, 30 s cap).
 */

const connectionReset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

function captureLines(): { lines: string[]; restore: () => void } {
  const lines: string[] = []
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean))
    return true
  }
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture)
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture)
  return {
    lines,
    restore: () => {
      out.mockRestore()
      err.mockRestore()
    },
  }
}

describe('AppConfig', () => {
  let output: ReturnType<typeof captureLines>
  beforeEach(() => {
    output = captureLines()
  })
  afterEach(() => {
    output.restore()
    vi.useRealTimers()
  })

  it('reads the configuration with the documented defaults', () => {
    expect(AppConfig.config.retry).toEqual({
      maxAttempts: 5,
      initialDelayMs: 1000,
      maxDelayMs: 30_000,
      backoffMultiplier: 2,
    })
  })

  it('calculates backoff as about 1 s, 2 s, 4 s, 8 s, 16 s, each within 20 % jitter', () => {
    const bases = [1000, 2000, 4000, 8000, 16_000]
    bases.forEach((base, i) => {
      const delay = AppConfig.calculateBackoff(i + 1)
      expect(delay).toBeGreaterThanOrEqual(base * 0.8)
      expect(delay).toBeLessThanOrEqual(base * 1.2)
    })
    expect(AppConfig.calculateBackoff(20)).toBeLessThanOrEqual(30_000)
  })

  it('retries a network error with the configured backoff and returns the result', async () => {
    vi.useFakeTimers()
    const fn = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(connectionReset())
      .mockRejectedValueOnce(connectionReset())
      .mockResolvedValue('done')
    const result = AppConfig.retryWithBackoff(fn, 'Operation Name')
    await vi.advanceTimersByTimeAsync(1200) // first backoff: at most 1.2 s
    expect(fn).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(2400) // second: at most 2.4 s
    await expect(result).resolves.toBe('done')
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('gives up after RETRY_MAX_ATTEMPTS with the last real error as the cause', async () => {
    vi.useFakeTimers()
    const last = connectionReset()
    const fn = vi.fn<() => Promise<never>>().mockRejectedValue(last)
    const result = AppConfig.retryWithBackoff(fn, 'Operation Name').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(60_000)
    const error = (await result) as Error
    expect(fn).toHaveBeenCalledTimes(5)
    expect(error.message).toMatch(/Operation Name failed after 5 attempts/)
    expect(error.cause).toBe(last)
  })

  it('does not retry what isFatal calls fatal (the contract example: code 401)', async () => {
    const unauthorised = Object.assign(connectionReset(), { code: 401 })
    const fn = vi.fn<() => Promise<never>>().mockRejectedValue(unauthorised)
    await expect(
      AppConfig.retryWithBackoff(fn, 'Operation Name', {
        isFatal: (error) => (error as { code?: unknown }).code === 401,
      }),
    ).rejects.toThrow(/Operation Name failed/)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('retries any error by default: throw new Error("x") is tried 5 times, 1 s, 2 s, 4 s, 8 s apart', async () => {
    vi.useFakeTimers()
    const started: number[] = []
    const t0 = Date.now()
    const result = AppConfig.retryWithBackoff(
      () => {
        started.push(Date.now() - t0)
        throw new Error('x')
      },
      'Operation Name',
      { random: () => 0.5 },
    ).catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    const error = (await result) as Error
    expect(started).toEqual([0, 1000, 3000, 7000, 15000])
    expect(error.message).toBe('Operation Name failed after 5 attempts (Error): x')
    expect(error.cause).toMatchObject({ message: 'x' })
  })

  it('retries, with the contract example isFatal, every error but a 401', async () => {
    vi.useFakeTimers()
    const fn = vi.fn<() => Promise<never>>().mockRejectedValue(new Error('socket closed'))
    const result = AppConfig.retryWithBackoff(fn, 'Operation Name', {
      isFatal: (error) => (error as { code?: unknown } | undefined)?.code === 401,
    }).catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    expect(await result).toMatchObject({ cause: { message: 'socket closed' } })
    expect(fn).toHaveBeenCalledTimes(5)
  })

  it('stops at once by default on what the project calls fatal (MongoDB code 18)', async () => {
    const authFailed = Object.assign(new Error('Authentication failed.'), {
      name: 'MongoServerError',
      code: 18,
    })
    const fn = vi.fn<() => Promise<never>>().mockRejectedValue(authFailed)
    await expect(AppConfig.retryWithBackoff(fn, 'MongoDB connect')).rejects.toThrow(
      /MongoDB connect failed \(mongo-auth, not retried\)/,
    )
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('sleeps the given time, and stops at once when the signal aborts', async () => {
    vi.useFakeTimers()
    let slept = false
    const done = AppConfig.sleep(500).then(() => (slept = true))
    await vi.advanceTimersByTimeAsync(499)
    expect(slept).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(slept).toBe(true)

    const controller = new AbortController()
    const aborted = AppConfig.sleep(60_000, controller.signal).catch((e: unknown) => e)
    controller.abort()
    expect(await aborted).toBeInstanceOf(Error)
  })

  it('logs the configuration as one structured event', () => {
    AppConfig.logConfig()
    const events = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const config = events.filter((e) => e.event === 'configuration')
    expect(config).toHaveLength(1)
    expect(config[0]).toMatchObject({ retry: { maxAttempts: 5 }, bulkWrite: { batchSize: 100 } })
  })
})
