import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'
import { logger } from '../../../lib/log.js'
import type { RetryPolicy } from '../../../lib/retry.js'
import type { WatchStreamFn } from '../../../lib/kube/operations.js'
import type { WatchEvent } from '../../../lib/kube/types.js'
import {
  watchWindow,
  type WatchWindowOptions,
  type WatchWindowResult,
} from '../../../lib/kube/watcher.js'
import { FakeWatchServer } from './fakes/fake-watch-server.js'
import { configMaps } from './fakes/resources.js'

const policy: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  backoffMultiplier: 2,
}
const socketHangUp = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })

type LogSpy = MockInstance<(message: string, ...extra: unknown[]) => void>
let warn: LogSpy
let info: LogSpy
let error: LogSpy

/** Runs a window to its end under the fake clock; returns what it yielded and its result. */
async function runWindow(
  server: Pick<FakeWatchServer, 'watch'>,
  options: Partial<WatchWindowOptions> & { fromResourceVersion: string; windowMs?: number },
  during?: () => Promise<void>,
) {
  const events: WatchEvent[] = []
  const generator = watchWindow(server.watch, {
    resolved: configMaps,
    windowEndsAt: Date.now() + (options.windowMs ?? 50_000),
    policy,
    reconnect: true,
    watchTimeoutMs: 60_000,
    random: () => 0.5, // no jitter: delays are exactly 1 s, 2 s, 4 s...
    ...options,
  })
  const done = (async (): Promise<WatchWindowResult> => {
    for (;;) {
      const step = await generator.next()
      if (step.done) return step.value
      events.push(step.value)
    }
  })()
  if (during) await during()
  await vi.runAllTimersAsync()
  return { events, result: await done, startedAt: Date.now() }
}

/**
 * A proxy in front of the server that cuts any stream silent for `idleMs`, as
 * a load balancer's or NAT's idle timeout does; `cuts` counts what it cut.
 */
function idleCuttingProxy(watch: WatchStreamFn, idleMs: number) {
  const proxy = { cuts: 0, watch: undefined as unknown as WatchStreamFn }
  proxy.watch = async (request) => {
    const events = (await watch(request))[Symbol.asyncIterator]()
    return (async function* () {
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined
        const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(resolve, idleMs, 'idle')))
        const next = events.next()
        next.catch(() => undefined) // the stream's own end, once the cut aborts it
        try {
          const step = await Promise.race([next, idle])
          if (step === 'idle') {
            proxy.cuts++
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
          }
          if (step.done) return
          yield step.value
        } finally {
          clearTimeout(timer)
        }
      }
    })()
  }
  return proxy
}

const rvs = (events: WatchEvent[]) => events.map((e) => e.object.metadata.resourceVersion)
const logged = (spy: LogSpy, event: string) =>
  spy.mock.calls.filter((call) => (call[1] as { event?: string } | undefined)?.event === event)

describe('watchWindow', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    info = vi.spyOn(logger, 'info').mockImplementation(() => undefined)
    error = vi.spyOn(logger, 'error').mockImplementation(() => undefined)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('replays the changes after the saved resourceVersion, in order, until the window ends', async () => {
    const server = new FakeWatchServer()
    const saved = server.add('ADDED', 'a')
    const later = [
      server.add('MODIFIED', 'a'),
      server.add('ADDED', 'b'),
      server.add('DELETED', 'a'),
    ]
    const started = Date.now()

    const { events, result } = await runWindow(server, {
      fromResourceVersion: saved,
      windowMs: 10_000,
    })

    expect(rvs(events)).toEqual(later)
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'ADDED', 'DELETED'])
    expect(result).toMatchObject({
      outcome: 'window-ended',
      resourceVersion: later[2],
      events: 3,
      reconnects: 0,
    })
    expect(Date.now() - started).toBe(10_000)
    expect(server.requests[0]).toMatchObject({
      resourceVersion: saved,
      allowWatchBookmarks: true,
      timeoutSeconds: 10,
    })
  })

  it('reconnects from the last resourceVersion after a cut, losing and repeating nothing', async () => {
    const server = new FakeWatchServer()
    const saved = server.add('ADDED', 'a')
    const later = Array.from({ length: 5 }, (_, i) => server.add('MODIFIED', `o${i}`))
    server.plan({ deliver: 2, then: 'cut' }, { deliver: 1, then: 'cut' })

    const { events, result } = await runWindow(server, { fromResourceVersion: saved })

    expect(rvs(events)).toEqual(later)
    expect(server.requests.map((r) => r.resourceVersion)).toEqual([saved, later[1], later[2]])
    expect(result).toMatchObject({
      outcome: 'window-ended',
      reconnects: 2,
      events: 5,
      resourceVersion: later[4],
    })
    expect(logged(error, 'watch.error')[0]?.[1]).toMatchObject({
      resource: 'v1/configmaps',
      error: { reason: 'ECONNRESET' },
    })
    expect(logged(info, 'watch.reconnected')).toHaveLength(2)
  })

  it("logs the contract's reconnection lines in order: error, Reconnecting in, Reconnecting... after the backoff, Reconnected", async () => {
    const server = new FakeWatchServer()
    server.plan({ then: 'cut', afterMs: 2_000 })
    const lines: Array<{ at: number; event?: string; message: string; fields: object }> = []
    const t0 = Date.now()
    for (const spy of [warn, info, error])
      spy.mockImplementation((message: string, ...extra: unknown[]) => {
        const fields = (extra[0] ?? {}) as { event?: string }
        lines.push({ at: Date.now() - t0, event: fields.event, message, fields })
      })

    await runWindow(server, { fromResourceVersion: '1000', windowMs: 10_000 })

    const reconnection = lines.filter((l) => l.event !== 'watch.ended')
    expect(reconnection.map(({ at, event, message }) => [at, event, message])).toEqual([
      [2_000, 'watch.error', 'Error in ConfigMap watch: socket hang up'],
      [2_000, 'watch.reconnecting', 'ConfigMap watch: Reconnecting in 1000ms (attempt 1/5)...'],
      [3_000, 'watch.reconnect-started', 'ConfigMap watch: Reconnecting...'],
      [3_000, 'watch.reconnected', 'ConfigMap watch: Reconnected successfully'],
    ])
    expect(reconnection[0]?.fields).toMatchObject({ openMs: 2_000, resourceVersion: '1000' })
    expect(reconnection[2]?.fields).toMatchObject({
      resource: 'v1/configmaps',
      resourceVersion: '1000',
      attempt: 1,
    })
  })

  it('backs off 1 s, 2 s, 4 s, 8 s, 16 s and gives up after RETRY_MAX_ATTEMPTS reconnections', async () => {
    const server = new FakeWatchServer()
    server.plan(...Array.from({ length: 6 }, () => ({ fail: socketHangUp() })))

    const { result } = await runWindow(server, { fromResourceVersion: '1000', windowMs: 120_000 })

    const reconnecting = logged(warn, 'watch.reconnecting')
    expect(reconnecting.map((c) => c[1])).toMatchObject(
      [1000, 2000, 4000, 8000, 16000].map((delayMs, i) => ({
        resource: 'v1/configmaps',
        delayMs,
        attempt: i + 1,
        maxAttempts: 5,
      })),
    )
    expect(reconnecting[0]?.[0]).toBe('ConfigMap watch: Reconnecting in 1000ms (attempt 1/5)...')
    expect(server.requests).toHaveLength(6)
    expect(result.outcome).toBe('failed')
    expect(result.error).toMatchObject({ name: 'RetryExhaustedError' })
    expect((result.error as Error).cause).toMatchObject({ message: 'socket hang up' })
  })

  it('resets the attempt count after a reconnect that delivered an event', async () => {
    const server = new FakeWatchServer()
    server.add('ADDED', 'a')
    server.plan(
      { fail: socketHangUp() },
      { fail: socketHangUp() },
      { deliver: 1, then: 'cut' },
      { fail: socketHangUp() },
    )

    await runWindow(server, { fromResourceVersion: '1000' })

    expect(
      logged(warn, 'watch.reconnecting').map((c) => (c[1] as { attempt: number }).attempt),
    ).toEqual([1, 2, 1, 2])
  })

  it('resets the attempt count after a reconnect that stayed healthy without events', async () => {
    const server = new FakeWatchServer()
    server.plan({ fail: socketHangUp() }, { then: 'cut', afterMs: 6_000 }, { fail: socketHangUp() })

    await runWindow(server, { fromResourceVersion: '1000' })

    expect(
      logged(warn, 'watch.reconnecting').map((c) => (c[1] as { attempt: number }).attempt),
    ).toEqual([1, 1, 2])
  })

  it('treats a stream the server closed early as a cut', async () => {
    const server = new FakeWatchServer()
    server.plan({ then: 'end-early' })

    const { result } = await runWindow(server, { fromResourceVersion: '1000', windowMs: 20_000 })

    expect(logged(error, 'watch.error')[0]?.[1]).toMatchObject({
      error: { name: 'WatchEndedEarlyError' },
    })
    expect(result).toMatchObject({ outcome: 'window-ended', reconnects: 1 })
  })

  it('watches again at once, without counting a reconnect, when the server ends the stream at its timeout', async () => {
    const server = new FakeWatchServer()

    const { result } = await runWindow(server, {
      fromResourceVersion: '1000',
      windowMs: 25_000,
      watchTimeoutMs: 10_000,
      random: () => 0,
    })

    expect(server.requests.map((r) => r.timeoutSeconds)).toEqual([10, 10, 5])
    expect(result).toMatchObject({ outcome: 'window-ended', reconnects: 0 })
    expect(logged(warn, 'watch.reconnecting')).toHaveLength(0)
  })

  it("avoids a proxy's idle cut when K8S_WATCH_TIMEOUT_MS is below it; raising it changes nothing", async () => {
    // The troubleshooting advice (docs/operations.md#a-watch-keeps-disconnecting), with the
    // default 50 s window and a proxy that cuts streams silent for 30 s.
    const runBehindProxy = async (watchTimeoutMs: number) => {
      const server = new FakeWatchServer()
      const proxy = idleCuttingProxy(server.watch, 30_000)
      error.mockClear()
      const { result } = await runWindow(proxy, {
        fromResourceVersion: '1000',
        windowMs: 50_000,
        watchTimeoutMs,
      })
      const timeouts = server.requests.map((r) => r.timeoutSeconds)
      return { cuts: proxy.cuts, errors: logged(error, 'watch.error').length, result, timeouts }
    }

    const below = await runBehindProxy(25_000)
    const byDefault = await runBehindProxy(60_000)
    const raised = await runBehindProxy(120_000)

    expect(below).toMatchObject({ cuts: 0, errors: 0, result: { reconnects: 0 } })
    expect(below.timeouts).toEqual([24, 24, 2]) // 25 s spread down by 5 %, then what is left
    expect(byDefault.cuts).toBeGreaterThan(0)
    expect(byDefault.timeouts[0]).toBe(50) // the request lasts the window
    expect(raised).toEqual(byDefault)
  })

  it('spreads timeoutSeconds below K8S_WATCH_TIMEOUT_MS and never past the window', async () => {
    const server = new FakeWatchServer()

    await runWindow(server, { fromResourceVersion: '1000', windowMs: 200_000, random: () => 0.5 })

    expect(server.requests[0]?.timeoutSeconds).toBe(57)
    expect(server.requests.at(-1)?.timeoutSeconds).toBeLessThanOrEqual(200 - 57 * 3)
  })

  it('advances the resourceVersion on bookmarks and resumes from it', async () => {
    const server = new FakeWatchServer()
    server.plan({ deliver: 0, bookmark: '1500', then: 'cut' })

    const { events, result } = await runWindow(server, {
      fromResourceVersion: '1000',
      windowMs: 10_000,
    })

    expect(events).toEqual([expect.objectContaining({ type: 'BOOKMARK' })])
    expect(server.requests[1]?.resourceVersion).toBe('1500')
    expect(result).toMatchObject({ bookmarks: 1, events: 0, resourceVersion: '1500' })
  })

  it('reports expired, without reconnecting, when the resourceVersion is too old (410)', async () => {
    const server = new FakeWatchServer()
    server.add('ADDED', 'a')
    server.compact()

    const { result } = await runWindow(server, { fromResourceVersion: '900' })

    expect(result).toMatchObject({
      outcome: 'expired',
      resourceVersion: '900',
      error: { code: 410 },
    })
    expect(server.requests).toHaveLength(1)
  })

  it('reports expired after the events it did deliver', async () => {
    const server = new FakeWatchServer()
    const rv = server.add('ADDED', 'a')
    server.plan({ then: 'gone' })

    const { events, result } = await runWindow(server, { fromResourceVersion: '1000' })

    expect(rvs(events)).toEqual([rv])
    expect(result).toMatchObject({ outcome: 'expired', resourceVersion: rv })
  })

  it('ends a silent stream at the window end', async () => {
    const server = new FakeWatchServer()
    server.plan({ then: 'hang' })
    const started = Date.now()

    const { result } = await runWindow(server, { fromResourceVersion: '1000', windowMs: 8_000 })

    expect(result.outcome).toBe('window-ended')
    expect(Date.now() - started).toBe(8_000)
    expect(server.aborted[0]).toBe(true)
  })

  it('reconnects a stream that stays silent well past its timeout', async () => {
    const server = new FakeWatchServer()
    server.plan({ then: 'hang' })

    const { result } = await runWindow(server, {
      fromResourceVersion: '1000',
      windowMs: 50_000,
      watchTimeoutMs: 10_000,
      random: () => 0,
    })

    expect(logged(error, 'watch.error')[0]?.[1]).toMatchObject({
      error: {
        name: 'WatchStalledError',
        reason: 'ETIMEDOUT',
        context: { resource: 'v1/configmaps', resourceVersion: '1000' },
        cause: { name: 'AbortError' },
      },
    })
    expect(result.reconnects).toBe(1)
  })

  it('does not reconnect once the window has ended during the backoff', async () => {
    const server = new FakeWatchServer()
    server.plan({ fail: socketHangUp() }, { fail: socketHangUp() })

    const { result } = await runWindow(server, { fromResourceVersion: '1000', windowMs: 2_500 })

    expect(server.requests).toHaveLength(2) // t=0 and t=1 s; the 2 s backoff passes the window end
    expect(result.outcome).toBe('window-ended')
  })

  it('stops at the deadline signal, in a stream or in a backoff', async () => {
    const server = new FakeWatchServer()
    const deadline = new AbortController()
    server.plan({ then: 'hang' })

    const { result } = await runWindow(
      server,
      { fromResourceVersion: '1000', signal: deadline.signal },
      async () => {
        await vi.advanceTimersByTimeAsync(3_000)
        deadline.abort()
      },
    )

    expect(result.outcome).toBe('deadline')
    expect(server.requests).toHaveLength(1)

    const again = new FakeWatchServer()
    const second = new AbortController()
    again.plan({ fail: socketHangUp() })
    const backoff = await runWindow(
      again,
      { fromResourceVersion: '1000', signal: second.signal },
      async () => {
        await vi.advanceTimersByTimeAsync(500)
        second.abort()
      },
    )
    expect(backoff.result.outcome).toBe('deadline')
    expect(again.requests).toHaveLength(1)
  })

  it('ends the window at the first failure when reconnection is disabled', async () => {
    const server = new FakeWatchServer()
    server.add('ADDED', 'a')
    server.plan({ deliver: 1, then: 'cut' })

    const { events, result } = await runWindow(server, {
      fromResourceVersion: '1000',
      reconnect: false,
    })

    expect(events).toHaveLength(1)
    expect(result).toMatchObject({
      outcome: 'failed',
      reconnects: 0,
      error: { code: 'ECONNRESET' },
    })
    expect(server.requests).toHaveLength(1)
  })

  it('does not retry a 403', async () => {
    const server = new FakeWatchServer()
    server.plan({ fail: Object.assign(new Error('forbidden'), { code: 403 }) })

    const { result } = await runWindow(server, { fromResourceVersion: '1000' })

    expect(result).toMatchObject({ outcome: 'failed', error: { code: 403 } })
    expect(server.requests).toHaveLength(1)
  })

  it('closes the stream when the consumer stops early', async () => {
    const server = new FakeWatchServer()
    server.add('ADDED', 'a')
    server.add('ADDED', 'b')
    const generator = watchWindow(server.watch, {
      resolved: configMaps,
      fromResourceVersion: '1000',
      windowEndsAt: Date.now() + 50_000,
      policy,
      reconnect: true,
      watchTimeoutMs: 60_000,
    })

    for await (const _event of generator) break

    expect(server.aborted[0]).toBe(true)
  })
})
