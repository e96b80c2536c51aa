import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  acquireLease,
  releaseLease,
  renewLease,
  type LeaseAnswer,
} from '../../../../lib/store/bookkeeping/lease.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

let db: Db
beforeAll(async () => {
  ;({ db } = await freshDb())
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

let k = 0
const nextId = () => `c/apps/v1/deployments-${++k}`
const won = (answers: LeaseAnswer[]) => answers.filter((a) => a.acquired)

describe('leases', () => {
  it('lets exactly one of 20 concurrent takers win', async () => {
    const id = nextId()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLease(db, id, `owner-${i}`, 60_000)),
    )
    expect(won(results)).toHaveLength(1)
    const winner = results.findIndex((a) => a.acquired)
    const state = await db.collection('sync_state').findOne({ _id: id as never })
    expect(state?.lease.owner).toBe(`owner-${winner}`)
  })

  it('lets one of 20 concurrent takers win a lease that exists but has expired', async () => {
    const id = nextId()
    const past = () => new Date(Date.now() - 120_000)
    expect(await acquireLease(db, id, 'old', 60_000, { now: past })).toEqual({ acquired: true })
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLease(db, id, `new-${i}`, 60_000)),
    )
    expect(won(results)).toHaveLength(1)
  })

  it('refuses a live lease to another owner, naming the holder and its expiry', async () => {
    const id = nextId()
    const now = new Date()
    expect(await acquireLease(db, id, 'a', 60_000, { now: () => now })).toEqual({
      acquired: true,
    })
    expect(await acquireLease(db, id, 'b', 60_000)).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: new Date(now.getTime() + 60_000),
    })
    expect(await acquireLease(db, id, 'a', 60_000)).toEqual({ acquired: true })
  })

  it('renews a live lease for its holder by a whole TTL from now', async () => {
    const id = nextId()
    await acquireLease(db, id, 'a', 60_000)
    const later = new Date(Date.now() + 30_000)
    expect(await renewLease(db, id, 'a', 60_000, { now: () => later })).toEqual({
      acquired: true,
    })
    expect(await acquireLease(db, id, 'b', 60_000)).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: new Date(later.getTime() + 60_000),
    })
  })

  it('refuses to renew a lease that expired or was taken over, saying whose it is', async () => {
    const id = nextId()
    const past = new Date(Date.now() - 120_000)
    await acquireLease(db, id, 'a', 60_000, { now: () => past })
    // Expired, still the newest claim: ours, but gone.
    expect(await renewLease(db, id, 'a', 60_000)).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: new Date(past.getTime() + 60_000),
    })
    await acquireLease(db, id, 'b', 60_000)
    expect(await renewLease(db, id, 'a', 60_000)).toMatchObject({ acquired: false, holder: 'b' })
    await releaseLease(db, id, 'b')
    expect(await renewLease(db, id, 'b', 60_000)).toEqual({
      acquired: false,
      holder: null,
      expiresAt: null,
    })
  })

  it('lets a renewal and a takeover of an expired lease race on one claim: exactly one wins', async () => {
    const id = nextId()
    const now = new Date()
    // Expired by the taker's clock, live by the renewer's (a slow renewal in flight).
    await acquireLease(db, id, 'a', 1_000, { now: () => new Date(now.getTime() - 5_000) })
    const [renewal, ...takers] = await Promise.all([
      renewLease(db, id, 'a', 60_000, { now: () => new Date(now.getTime() - 4_500) }),
      ...Array.from({ length: 10 }, (_, i) => acquireLease(db, id, `t-${i}`, 60_000)),
    ])
    expect(won([renewal, ...takers])).toHaveLength(1)
  })

  it('releases only a lease that is still ours', async () => {
    const id = nextId()
    const past = () => new Date(Date.now() - 120_000)
    await acquireLease(db, id, 'a', 60_000, { now: past })
    expect(await acquireLease(db, id, 'b', 60_000)).toEqual({ acquired: true })
    expect(await releaseLease(db, id, 'a')).toMatchObject({ acquired: false, holder: 'b' })
    expect(await releaseLease(db, id, 'b')).toEqual({ acquired: true })
    expect(await acquireLease(db, id, 'c', 60_000)).toEqual({ acquired: true })
  })
})
