import {
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
  type MockInstance,
} from 'vitest'
import { isKnownFatal, notTransient } from '../../lib/classify.js'
import {
  ConfigError,
  DeadlineError,
  FatalOperationError,
  RetryExhaustedError,
} from '../../lib/errors.js'
import { KubeApiError } from '../../lib/kube/errors.js'
import { Breakers, CircuitOpenError } from '../../lib/resilience/circuit-breaker.js'
import { logger } from '../../lib/log.js'
import {
  calculateBackoff,
  retryWithBackoff,
  sleep,
  type RetryEvent,
  type RetryPolicy,
} from '../../lib/retry.js'

const spec: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  maxDelayMs: 30000,
  backoffMultiplier: 2,
}

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

describe('calculateBackoff', () => {
  it('follows the backoff sequence 1 s, 2 s, 4 s, 8 s, 16 s at the middle of the jitter', () => {
    expect([1, 2, 3, 4, 5].map((a) => calculateBackoff(a, spec, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ])
  })

  it('keeps the jitter within 20 % either side', () => {
    for (let attempt = 1; attempt <= 4; attempt++) {
      const base = 1000 * 2 ** (attempt - 1)
      expect(calculateBackoff(attempt, spec, () => 0)).toBe(base * 0.8)
      expect(calculateBackoff(attempt, spec, () => 0.999999)).toBe(Math.round(base * 1.2))
    }
  })

  it('never exceeds the cap, jitter included', () => {
    for (const r of [0, 0.5, 0.999999]) {
      expect(calculateBackoff(10, spec, () => r)).toBeLessThanOrEqual(30000)
      expect(calculateBackoff(6, { ...spec, maxDelayMs: 20000 }, () => r)).toBeLessThanOrEqual(
        20000,
      )
    }
  })

  it('spreads delays: two callers rarely wait the same time', () => {
    const delays = new Set(Array.from({ length: 50 }, () => calculateBackoff(3, spec)))
    expect(delays.size).toBeGreaterThan(10)
  })
})

describe('retryWithBackoff', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries transient errors and returns the first success', async () => {
    const fn = vi
      .fn()
      .mockRejectedValueOnce(reset())
      .mockRejectedValueOnce(reset())
      .mockResolvedValue('ok')
    const delays: number[] = []
    const run = retryWithBackoff(fn, 'List pods', {
      policy: spec,
      random: () => 0.5,
      onRetry: (e) => delays.push(e.delayMs),
    })
    await vi.runAllTimersAsync()
    await expect(run).resolves.toBe('ok')
    expect(fn).toHaveBeenCalledTimes(3)
    expect(delays).toEqual([1000, 2000])
  })

  it('waits exactly the backoff before the next attempt', async () => {
    const fn = vi.fn().mockRejectedValueOnce(reset()).mockResolvedValue('ok')
    const run = retryWithBackoff(fn, 'op', { policy: spec, random: () => 0.5 })
    await vi.advanceTimersByTimeAsync(999)
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fn).toHaveBeenCalledTimes(2)
    await expect(run).resolves.toBe('ok')
  })

  it('stops at once on a fatal error, without sleeping', async () => {
    const forbidden = Object.assign(new Error('forbidden'), { code: 403 })
    const fn = vi.fn().mockRejectedValue(forbidden)
    const run = retryWithBackoff(fn, 'List secrets', { policy: spec })
    const assertion = expect(run).rejects.toBeInstanceOf(FatalOperationError)
    await assertion
    expect(fn).toHaveBeenCalledTimes(1)
    await expect(run).rejects.toMatchObject({
      cause: forbidden,
      message: expect.stringContaining('http-403'),
    })
  })

  it('does not retry what isFatal calls fatal, even a transient error', async () => {
    const fn = vi.fn().mockRejectedValue(reset())
    const run = retryWithBackoff(fn, 'op', { policy: spec, isFatal: () => true })
    await expect(run).rejects.toBeInstanceOf(FatalOperationError)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it("does not retry unknown errors with the sync's isFatal (notTransient): they are bugs", async () => {
    const fn = vi.fn().mockRejectedValue(new TypeError('x is undefined'))
    await expect(
      retryWithBackoff(fn, 'op', { policy: spec, isFatal: notTransient }),
    ).rejects.toBeInstanceOf(FatalOperationError)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('rethrows the last real error with the context and attempt count after the last attempt', async () => {
    const errors = [1, 2, 3, 4, 5].map((i) =>
      Object.assign(new Error(`reset #${i}`), { code: 'ECONNRESET' }),
    )
    const fn = vi.fn()
    for (const e of errors) fn.mockRejectedValueOnce(e)
    const run = retryWithBackoff(fn, 'Write chunk 3/10', {
      policy: spec,
      context: { resource: 'v1/secrets', chunk: 3 },
    })
    const settled = run.catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    const error = (await settled) as RetryExhaustedError
    expect(error).toBeInstanceOf(RetryExhaustedError)
    expect(fn).toHaveBeenCalledTimes(5)
    expect(error.cause).toBe(errors[4])
    expect(error.message).toBe('Write chunk 3/10 failed after 5 attempts (ECONNRESET): reset #5')
    expect(error.context).toMatchObject({
      resource: 'v1/secrets',
      chunk: 3,
      attempt: 5,
      attempts: 5,
      operation: 'Write chunk 3/10',
    })
  })

  it('waits at least what a 429 Retry-After asks, within the cap', async () => {
    const throttled = Object.assign(new Error('Too Many Requests'), {
      code: 429,
      headers: { 'retry-after': '7' },
    })
    const fn = vi.fn().mockRejectedValueOnce(throttled).mockResolvedValue('ok')
    const delays: number[] = []
    const run = retryWithBackoff(fn, 'op', {
      policy: spec,
      random: () => 0.5,
      onRetry: (e) => delays.push(e.delayMs),
    })
    await vi.runAllTimersAsync()
    await run
    expect(delays).toEqual([7000])
  })

  it('stops sleeping when the deadline aborts, and gives up with the last real error', async () => {
    const controller = new AbortController()
    const error = reset()
    const fn = vi.fn().mockRejectedValue(error)
    const run = retryWithBackoff(fn, 'List pods', { policy: spec, signal: controller.signal })
    const settled = run.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(100)
    controller.abort(new DeadlineError('Lambda deadline'))
    const result = (await settled) as RetryExhaustedError
    expect(result).toBeInstanceOf(RetryExhaustedError)
    expect(result.cause).toBe(error)
    expect(result.message).toContain('deadline reached before the next')
    expect(fn).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('starts no attempt once the deadline has passed', async () => {
    const controller = new AbortController()
    controller.abort()
    const fn = vi.fn()
    await expect(
      retryWithBackoff(fn, 'op', { policy: spec, signal: controller.signal }),
    ).rejects.toBeInstanceOf(DeadlineError)
    expect(fn).not.toHaveBeenCalled()
  })
})

/*
 * The fault-tolerance contract (docs/resilience.md#retry-and-error-handling):
 * any error is retried unless `isFatal` calls it fatal; without `isFatal`,
 * the project's fatal classification decides.
 */
describe('retryWithBackoff, as the fault-tolerance contract defines it', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Runs to the end under the fake clock; returns the error and when each attempt started. */
  async function failingRun(fn: (attempt: number) => Promise<unknown>, isFatal?: RetryIsFatal) {
    const started: number[] = []
    const t0 = Date.now()
    const run = retryWithBackoff(
      (attempt) => {
        started.push(Date.now() - t0)
        return fn(attempt)
      },
      'Operation Name',
      { policy: spec, random: () => 0.5, ...(isFatal ? { isFatal } : {}) },
    ).catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    return { error: (await run) as Error, started, endedAt: Date.now() - t0 }
  }

  it('retries a plain Error 5 times, waiting 1 s, 2 s, 4 s, 8 s, then throws it as the cause', async () => {
    // Attempt 1: Fail -> Wait 1s; 2: Fail -> Wait 2s; 3: -> 4s; 4: -> 8s; 5: Fail -> Throw error.
    const errors: Error[] = []
    const { error, started, endedAt } = await failingRun(() => {
      const e = new Error('x')
      errors.push(e)
      throw e
    })

    expect(started).toEqual([0, 1000, 3000, 7000, 15000])
    expect(endedAt).toBe(15000) // no wait after the last attempt
    expect(error).toBeInstanceOf(RetryExhaustedError)
    expect(error.cause).toBe(errors[4])
    expect(error.message).toBe('Operation Name failed after 5 attempts (Error): x')
  })

  it('retries a function that throws synchronously, like one that rejects', async () => {
    const { error, started } = await failingRun(() => {
      throw new Error('x')
    })
    expect(started).toHaveLength(5)
    expect(error).toBeInstanceOf(RetryExhaustedError)
  })

  it('follows the contract example: isFatal: error => error?.code === 401 stops at once on a 401', async () => {
    const isFatal = (error: unknown) => (error as { code?: unknown } | undefined)?.code === 401
    const unauthorised = Object.assign(new Error('Unauthorized'), { code: 401 })

    const stopped = await failingRun(() => Promise.reject(unauthorised), isFatal)
    const retried = await failingRun(() => Promise.reject(new Error('socket closed')), isFatal)

    expect(stopped.started).toEqual([0])
    expect(stopped.error).toBeInstanceOf(FatalOperationError)
    expect(stopped.error.cause).toBe(unauthorised)
    expect(retried.started).toHaveLength(5)
  })

  it('lets a given isFatal decide alone: a 403 is retried when it says only 401 is fatal', async () => {
    const forbidden = Object.assign(new Error('forbidden'), { code: 403 })
    const { started } = await failingRun(
      () => Promise.reject(forbidden),
      (error) => (error as { code?: unknown }).code === 401,
    )
    expect(started).toHaveLength(5)
  })

  it('never retries the deadline or an open circuit breaker, whatever isFatal says', async () => {
    for (const refused of [new DeadlineError('deadline reached'), await circuitOpen()]) {
      const { error, started } = await failingRun(
        () => Promise.reject(refused),
        () => false,
      )
      expect(started).toEqual([0])
      expect(error).toBeInstanceOf(FatalOperationError)
      expect(error.cause).toBe(refused)
    }
  })

  it.each([
    ['HTTP 401', Object.assign(new Error('Unauthorized'), { code: 401 })],
    ['HTTP 403', new KubeApiError('list v1/secrets', 403, { reason: 'Forbidden' })],
    ['HTTP 422', Object.assign(new Error('Unprocessable'), { code: 422 })],
    ['MongoDB code 18', mongoError('MongoServerError', 18, 'Authentication failed.')],
    ['bad configuration', new ConfigError(['RETRY_MAX_ATTEMPTS: not a number'])],
  ])('stops at once by default on what the project calls fatal: %s', async (_name, fatal) => {
    const { error, started } = await failingRun(() => Promise.reject(fatal))
    expect(started).toEqual([0])
    expect(error).toBeInstanceOf(FatalOperationError)
  })

  it('retries a 410 by default, and leaves it to the caller with notTransient', async () => {
    const gone = new KubeApiError('list v1/pods', 410, { reason: 'Expired' })
    expect((await failingRun(() => Promise.reject(gone))).started).toHaveLength(5)
    expect((await failingRun(() => Promise.reject(gone), notTransient)).started).toEqual([0])
  })
})

describe('the isFatal predicates', () => {
  const unknown = [new Error('x'), new TypeError('y is undefined'), 'a thrown string']
  const transient = [reset(), mongoError('MongoNetworkError', undefined, 'connection reset')]
  const gone = new KubeApiError('watch v1/pods', 410, { reason: 'Expired' })
  const fatal: unknown[] = [
    new KubeApiError('list v1/secrets', 403, { reason: 'Forbidden' }),
    mongoError('MongoServerError', 18, 'Authentication failed.'),
    new ConfigError(['RETRY_MAX_ATTEMPTS: not a number']),
    new DeadlineError('deadline reached'),
  ]
  beforeAll(async () => {
    fatal.push(await circuitOpen())
  })

  it('isKnownFatal (the default) calls fatal only what the project recognises as fatal', () => {
    expect(fatal).toHaveLength(5)
    expect(fatal.map(isKnownFatal)).toEqual(fatal.map(() => true))
    expect([...unknown, ...transient, gone].map(isKnownFatal)).toEqual(
      [...unknown, ...transient, gone].map(() => false),
    )
  })

  it("notTransient (the sync's) calls fatal everything but a transient error", () => {
    expect([...fatal, ...unknown, gone].map(notTransient)).toEqual(
      [...fatal, ...unknown, gone].map(() => true),
    )
    expect(transient.map(notTransient)).toEqual([false, false])
  })
})

type RetryIsFatal = (error: unknown) => boolean

function mongoError(name: string, code: number | undefined, message: string): Error {
  return Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) })
}

/** The error a real breaker refuses a call with once it is open. */
async function circuitOpen(): Promise<CircuitOpenError> {
  const breakers = new Breakers({
    features: { circuitBreaker: true },
    breaker: { failureThreshold: 1, halfOpenAfterMs: 60_000 },
  })
  await breakers.guard('mongodb', () => Promise.reject(reset())).catch(() => undefined)
  const refused: unknown = await breakers.guard('mongodb', () => Promise.resolve()).catch((e) => e)
  if (!(refused instanceof CircuitOpenError)) throw new Error('test bug: the breaker did not open')
  return refused
}

type LogSpy = MockInstance<(message: string, ...extra: unknown[]) => void>

describe('retryWithBackoff reports through callbacks, and logs only what no callback took', () => {
  const levels = ['debug', 'info', 'warn', 'error'] as const
  let spies: LogSpy[]
  /** Every line logged, at any level, in order, as [level, event]. */
  const lines = () =>
    spies
      .flatMap((spy, i) =>
        spy.mock.calls.map((call, n) => ({
          order: spy.mock.invocationCallOrder[n]!,
          line: [levels[i], (call[1] as { event?: string } | undefined)?.event],
        })),
      )
      .sort((a, b) => a.order - b.order)
      .map(({ line }) => line)
  const failTwiceThenSucceed = () =>
    vi.fn().mockRejectedValueOnce(reset()).mockRejectedValueOnce(reset()).mockResolvedValue('ok')
  const run = async <T>(promise: Promise<T>) => {
    const settled = promise.catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    return settled
  }

  beforeEach(() => {
    vi.useFakeTimers()
    spies = levels.map((level) => vi.spyOn(logger, level).mockImplementation(() => undefined))
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('writes no retry line itself when the caller passes onRetry', async () => {
    const events: RetryEvent[] = []

    await run(
      retryWithBackoff(failTwiceThenSucceed(), 'List pods', {
        policy: spec,
        random: () => 0.5,
        context: { resource: 'v1/pods' },
        onRetry: (event) => events.push(event),
      }),
    )

    expect(lines().filter(([, event]) => event === 'retry')).toEqual([])
    expect(spies[2]).not.toHaveBeenCalled() // no warn line at all
    expect(events).toMatchObject([
      { operation: 'List pods', attempt: 1, maxAttempts: 5, delayMs: 1000, reason: 'ECONNRESET' },
      { operation: 'List pods', attempt: 2, maxAttempts: 5, delayMs: 2000, reason: 'ECONNRESET' },
    ])
    expect(events[0]?.context).toEqual({ resource: 'v1/pods', operation: 'List pods' })
  })

  it('writes no line at all when the caller handles every event', async () => {
    const seen: string[] = []
    const handlers = {
      onRetry: () => seen.push('retry'),
      onSuccessAfterRetry: () => seen.push('succeeded'),
      onGiveUp: () => seen.push('gave-up'),
    }

    await run(retryWithBackoff(failTwiceThenSucceed(), 'op', { policy: spec, ...handlers }))
    const failing = vi.fn().mockRejectedValue(reset())
    const error = await run(retryWithBackoff(failing, 'op', { policy: spec, ...handlers }))

    expect(error).toBeInstanceOf(RetryExhaustedError)
    expect(lines()).toEqual([])
    expect(seen).toEqual(['retry', 'retry', 'succeeded', ...Array(4).fill('retry'), 'gave-up'])
  })

  it('logs exactly one retry line per retry when no onRetry is given', async () => {
    await run(
      retryWithBackoff(failTwiceThenSucceed(), 'List pods', {
        policy: spec,
        random: () => 0.5,
        context: { resource: 'v1/pods' },
      }),
    )

    const retries = spies[2]!.mock.calls.filter(
      (call) => (call[1] as { event?: string }).event === 'retry',
    )
    expect(retries.map((call) => call[0])).toEqual([
      'List pods: retrying in 1000ms (attempt 1/5)',
      'List pods: retrying in 2000ms (attempt 2/5)',
    ])
    expect(retries[0]?.[1]).toMatchObject({
      event: 'retry',
      resource: 'v1/pods',
      operation: 'List pods',
      attempt: 1,
      attempts: 5,
      delayMs: 1000,
      error: { reason: 'ECONNRESET', message: 'read ECONNRESET' },
    })
    expect(lines()).toEqual([
      ['warn', 'retry'],
      ['warn', 'retry'],
      ['info', 'retry.succeeded'],
    ])
  })

  it('logs one retry.exhausted line on giving up, unless onGiveUp takes it', async () => {
    const failing = () => vi.fn().mockRejectedValue(reset())

    await run(retryWithBackoff(failing(), 'Write chunk', { policy: { ...spec, maxAttempts: 2 } }))
    expect(lines()).toEqual([
      ['warn', 'retry'],
      ['error', 'retry.exhausted'],
    ])
    expect(spies[3]!.mock.calls[0]?.[1]).toMatchObject({
      operation: 'Write chunk',
      attempt: 2,
      attempts: 2,
      error: { reason: 'ECONNRESET' },
    })

    for (const spy of spies) spy.mockClear()
    const onGiveUp = vi.fn()
    await run(
      retryWithBackoff(failing(), 'Write chunk', { policy: { ...spec, maxAttempts: 2 }, onGiveUp }),
    )
    expect(lines()).toEqual([['warn', 'retry']])
    expect(onGiveUp).toHaveBeenCalledWith(
      expect.objectContaining({ operation: 'Write chunk', attempt: 2, reason: 'ECONNRESET' }),
    )
  })

  it('logs nothing for a first-attempt success or a fatal error: the caller sees those', async () => {
    await run(retryWithBackoff(() => Promise.resolve('ok'), 'op', { policy: spec }))
    const forbidden = Object.assign(new Error('forbidden'), { code: 403 })
    await run(retryWithBackoff(() => Promise.reject(forbidden), 'op', { policy: spec }))

    expect(lines()).toEqual([])
  })
})

describe('sleep', () => {
  it('resolves after the time', async () => {
    vi.useFakeTimers()
    const done = vi.fn()
    void sleep(500).then(done)
    await vi.advanceTimersByTimeAsync(499)
    expect(done).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(done).toHaveBeenCalled()
    vi.useRealTimers()
  })

  it('rejects with a DeadlineError as soon as the signal aborts, leaving no timer behind', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const slept = sleep(60_000, controller.signal)
    controller.abort()
    await expect(slept).rejects.toBeInstanceOf(DeadlineError)
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })
})
