import { describe, expect, it } from 'vitest'
import { refreshingValue, type Expiring } from '../../../lib/aws/refreshing-value.js'

/** A loader that hands out value-1, value-2, ... each valid `lifetimeMs` from the clock's time. */
function counter(clock: { now: number }, lifetimeMs: number) {
  const state = { calls: 0, fail: false }
  const load = (): Promise<Expiring<string>> => {
    state.calls++
    if (state.fail) return Promise.reject(new Error('sts is down'))
    return Promise.resolve({ value: `value-${state.calls}`, expiresAt: clock.now + lifetimeMs })
  }
  return { state, load }
}

describe('refreshingValue', () => {
  it('loads once and reuses the value until the refresh window opens', async () => {
    const clock = { now: 0 }
    const { state, load } = counter(clock, 60_000)
    const get = refreshingValue(load, { what: 't', refreshBeforeMs: 10_000, now: () => clock.now })
    expect(await get()).toBe('value-1')
    clock.now = 49_999
    expect(await get()).toBe('value-1')
    expect(state.calls).toBe(1)
    clock.now = 50_000
    expect(await get()).toBe('value-2')
    expect(state.calls).toBe(2)
  })

  it('shares one load among concurrent callers', async () => {
    const clock = { now: 0 }
    const { state, load } = counter(clock, 60_000)
    const get = refreshingValue(load, { what: 't', now: () => clock.now })
    const values = await Promise.all([get(), get(), get(), get()])
    expect(values).toEqual(['value-1', 'value-1', 'value-1', 'value-1'])
    expect(state.calls).toBe(1)
  })

  it('keeps the current value when an early refresh fails, and retries on the next call', async () => {
    const clock = { now: 0 }
    const { state, load } = counter(clock, 60_000)
    const get = refreshingValue(load, { what: 't', refreshBeforeMs: 10_000, now: () => clock.now })
    await get()
    clock.now = 55_000
    state.fail = true
    expect(await get()).toBe('value-1')
    state.fail = false
    expect(await get()).toBe('value-3')
    expect(state.calls).toBe(3)
  })

  it('fails once the value has expired and the reload fails, and does not cache the failure', async () => {
    const clock = { now: 0 }
    const { state, load } = counter(clock, 60_000)
    const get = refreshingValue(load, { what: 't', refreshBeforeMs: 10_000, now: () => clock.now })
    await get()
    clock.now = 60_000
    state.fail = true
    await expect(get()).rejects.toThrow('sts is down')
    state.fail = false
    expect(await get()).toBe('value-3')
  })

  it('with no refresh window, reloads exactly when the value expires', async () => {
    const clock = { now: 0 }
    const { load } = counter(clock, 1_000)
    const get = refreshingValue(load, { what: 't', now: () => clock.now })
    await get()
    clock.now = 999
    expect(await get()).toBe('value-1')
    clock.now = 1_000
    expect(await get()).toBe('value-2')
  })
})
