import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LeaseLostError, withLease, type LeaseTerms } from '../../../lib/sync/lease-keeper.js'
import { FakeStore } from './fake-store.js'

/*
 * withLease keeps a short lease renewed while the work runs, and stops the
 * work through its signal once the lease is lost. Fake timers drive both the
 * renewals and the FakeStore's lease clock (Date.now).
 */

const terms: LeaseTerms = {
  owner: 'reconcile/me',
  resource: 'v1/configmaps',
  ttlMs: 60_000,
  renewIntervalMs: 20_000,
}

/** Work that runs until its lease signal fires (then returns the reason), or until `finish` is called. */
function pendingWork() {
  let finish: (value: string) => void = () => undefined
  let signal: AbortSignal | undefined
  const work = (lease: AbortSignal) => {
    signal = lease
    return new Promise<unknown>((resolve) => {
      finish = resolve
      lease.addEventListener('abort', () => resolve(lease.reason), { once: true })
    })
  }
  return { work, finish: (value: string) => finish(value), signal: () => signal }
}

let store: FakeStore
let started: number
beforeEach(() => {
  vi.useFakeTimers()
  started = Date.now()
  store = new FakeStore()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('withLease', () => {
  it('renews the lease every interval while the work runs', async () => {
    const renew = vi.spyOn(store, 'renewLease')
    const w = pendingWork()

    const running = withLease(store, terms, w.work)
    await vi.advanceTimersByTimeAsync(19_999)
    expect(renew).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(renew).toHaveBeenCalledTimes(1)
    expect(store.lease).toEqual({ owner: 'reconcile/me', expiresAt: started + 80_000 })
    await vi.advanceTimersByTimeAsync(100_000) // at 120 s: twice the TTL
    expect(renew).toHaveBeenCalledTimes(6)
    expect(renew).toHaveBeenCalledWith('reconcile/me', 60_000)
    expect(store.lease).toEqual({ owner: 'reconcile/me', expiresAt: started + 180_000 })
    expect(w.signal()?.aborted).toBe(false)
    w.finish('done')

    expect(await running).toEqual({ acquired: true, value: 'done', lost: undefined })
    expect(store.lease).toBeUndefined()
  })

  it('stops renewing when the work ends, and leaves no timer behind', async () => {
    const renew = vi.spyOn(store, 'renewLease')
    const w = pendingWork()
    const running = withLease(store, terms, w.work)
    await vi.advanceTimersByTimeAsync(30_000)
    w.finish('done')
    await running

    await vi.advanceTimersByTimeAsync(300_000)

    expect(renew).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('lets a renewal in flight when the work ends land before it releases the lease', async () => {
    // A renewal whose claim lands 100 ms after it starts, as a real one lands after its read.
    vi.spyOn(store, 'renewLease').mockImplementation(async (owner, ttlMs) => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      store.lease = { owner, expiresAt: Date.now() + ttlMs }
      return { acquired: true }
    })
    const w = pendingWork()
    const running = withLease(store, terms, w.work)
    await vi.advanceTimersByTimeAsync(20_050) // the first renewal is in flight
    w.finish('done')
    await vi.advanceTimersByTimeAsync(100)
    await running

    // Released after the renewal landed: the next run need not wait out a TTL.
    expect(store.lease).toBeUndefined()
  })

  it('does not wait more than 2 s for a renewal stuck in flight before releasing', async () => {
    vi.spyOn(store, 'renewLease').mockReturnValue(new Promise(() => undefined))
    const release = vi.spyOn(store, 'releaseLease')
    const w = pendingWork()
    const running = withLease(store, terms, w.work)
    await vi.advanceTimersByTimeAsync(25_000)
    w.finish('done')

    await vi.advanceTimersByTimeAsync(1_999)
    expect(release).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await running
    expect(release).toHaveBeenCalledWith('reconcile/me')
  })

  it('stops the work when a renewal finds the lease taken over, naming the new holder', async () => {
    const w = pendingWork()
    const running = withLease(store, terms, w.work)
    await vi.advanceTimersByTimeAsync(5_000)
    store.lease = { owner: 'reconcile/other', expiresAt: Date.now() + 60_000 }
    const theirs = new Date(store.lease.expiresAt).toISOString()

    await vi.advanceTimersByTimeAsync(14_999)
    expect(w.signal()?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const result = await running

    expect(result.acquired).toBe(true)
    const lost = result.acquired ? result.lost : undefined
    expect(lost).toBeInstanceOf(LeaseLostError)
    expect(lost?.message).toBe(
      `lease of v1/configmaps lost: taken over by reconcile/other, whose lease expires at ${theirs}`,
    )
    expect(result).toMatchObject({ value: lost })
    // The new holder keeps it: release frees only our own.
    expect(store.lease?.owner).toBe('reconcile/other')
  })

  it('keeps trying a failing renewal until the TTL has passed, then stops the work', async () => {
    const renew = vi
      .spyOn(store, 'renewLease')
      .mockRejectedValue(new Error('connection 3 to 127.0.0.1:27017 closed'))
    const w = pendingWork()
    const running = withLease(store, terms, w.work)

    await vi.advanceTimersByTimeAsync(59_999)
    expect(renew).toHaveBeenCalledTimes(2) // at 20 and 40 s
    expect(w.signal()?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const result = await running

    expect(w.signal()?.aborted).toBe(true)
    const lost = result.acquired ? result.lost : undefined
    expect(lost?.message).toBe(
      `lease of v1/configmaps lost: not renewed within 60000 ms, it expired at ${new Date(started + 60_000).toISOString()}; ` +
        'last renewal failed: connection 3 to 127.0.0.1:27017 closed',
    )
    expect(lost?.cause).toBeInstanceOf(Error)
  })

  it('counts the TTL from the last renewal that succeeded', async () => {
    let calls = 0
    vi.spyOn(store, 'renewLease').mockImplementation((owner, ttlMs) =>
      ++calls === 2
        ? FakeStore.prototype.renewLease.call(store, owner, ttlMs)
        : Promise.reject(new Error('server selection timed out')),
    )
    const w = pendingWork()
    const running = withLease(store, terms, w.work)

    // Failed at 20 s, renewed at 40 s, failed at 60 and 80 s: it holds until 100 s.
    await vi.advanceTimersByTimeAsync(99_999)
    expect(w.signal()?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const result = await running

    expect(calls).toBe(4)
    expect(result.acquired && result.lost?.message).toContain(
      `it expired at ${new Date(started + 100_000).toISOString()}; last renewal failed: server selection timed out`,
    )
  })

  it('stops the work at the TTL when a renewal hangs', async () => {
    vi.spyOn(store, 'renewLease').mockReturnValue(new Promise(() => undefined))
    const w = pendingWork()
    const running = withLease(store, terms, w.work)

    await vi.advanceTimersByTimeAsync(60_000)
    expect(w.signal()?.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(2_000) // the release waits that long for the stuck renewal
    const result = await running

    expect(result.acquired && result.lost?.message).toMatch(
      /^lease of v1\/configmaps lost: not renewed within 60000 ms, it expired at [^;]+$/,
    )
  })

  it('fails with the lost lease when the work fails after losing it', async () => {
    const running = withLease(store, terms, async (lease) => {
      await new Promise((resolve) => lease.addEventListener('abort', resolve, { once: true }))
      throw new Error('bulk write stopped')
    })
    await vi.advanceTimersByTimeAsync(0)
    // Taken before the first renewal: the keeper sees it at 20 s.
    store.lease = { owner: 'watch/other', expiresAt: Date.now() + 60_000 }
    const failed = expect(running).rejects.toThrow(LeaseLostError)
    await vi.advanceTimersByTimeAsync(20_000)
    await failed
  })

  it('gives back the refusal, naming the holder and its expiry, and never runs the work', async () => {
    await store.acquireLease('reconcile/crashed', 60_000)
    const work = vi.fn(() => Promise.resolve('ran'))

    const result = await withLease(store, terms, work)

    expect(result).toEqual({
      acquired: false,
      holder: 'reconcile/crashed',
      expiresAt: new Date(started + 60_000),
    })
    expect(work).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('withLease on real timers', () => {
  beforeEach(() => {
    vi.useRealTimers()
  })

  it('never keeps the process alive: its timers are unref’d', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    let during = -1
    await withLease(new FakeStore(), terms, async () => {
      await Promise.resolve()
      during = timers()
    })
    expect(during).toBe(before)
  })
})
