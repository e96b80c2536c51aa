import { describe, expect, it } from 'vitest'
import { DeadlineError } from '../../../lib/errors.js'
import { boundedStore, settleByOf } from '../../../lib/sync/bounded-store.js'
import { createDeadline } from '../../../lib/sync/deadline.js'
import { FakeStore } from './fake-store.js'

describe('boundedStore', () => {
  it('settles every call halfway through the safety margin', () => {
    expect(settleByOf({ at: 1_000, endsAt: 11_000 })).toBe(6_000)
    expect(settleByOf({ at: 1_000, endsAt: 1_000 })).toBe(1_000)
  })

  it('passes a call that answers in time through unchanged', async () => {
    const deadline = createDeadline(10_000, 2_000)
    const store = new FakeStore()
    store.state = { watchResourceVersion: '7' }
    try {
      const state = await boundedStore(store, deadline).getState()
      expect(state?.watchResourceVersion).toBe('7')
    } finally {
      deadline.dispose()
    }
  })

  it('abandons a call MongoDB never answers, with a DeadlineError, before the time left runs out', async () => {
    const deadline = createDeadline(400, 200)
    const store = new FakeStore()
    store.getState = () => new Promise(() => undefined)
    const started = Date.now()
    try {
      const call = boundedStore(store, deadline).getState()
      await expect(call).rejects.toBeInstanceOf(DeadlineError)
      await expect(call).rejects.toThrow(/getState abandoned/)
      const took = Date.now() - started
      expect(took).toBeGreaterThanOrEqual(290)
      expect(took).toBeLessThan(400)
    } finally {
      deadline.dispose()
    }
  })
})
