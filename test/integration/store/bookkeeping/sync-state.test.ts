import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { checkpointsFor } from '../../../../lib/store/bookkeeping/sync-state.js'
import { acquireLease, releaseLease, renewLease } from '../../../../lib/store/bookkeeping/lease.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

let db: Db
beforeAll(async () => {
  ;({ db } = await freshDb())
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

const deployments = parseResourceRef('apps/v1/deployments')!
let k = 0
const nextId = () => `c/apps/v1/deployments-${++k}`

describe('leases', () => {
  it('lets exactly one of 20 concurrent takers win', async () => {
    const id = nextId()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLease(db, id, `owner-${i}`, 60_000)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true)
    const state = await db.collection('sync_state').findOne({ _id: id as never })
    expect(state?.lease.owner).toBe(`owner-${winner}`)
  })

  it('lets one of 20 concurrent takers win a lease that exists but has expired', async () => {
    const id = nextId()
    const past = () => new Date(Date.now() - 120_000)
    expect(await acquireLease(db, id, 'old', 60_000, { now: past })).toBe(true)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLease(db, id, `new-${i}`, 60_000)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('refuses a live lease to another owner and renews it for its holder', async () => {
    const id = nextId()
    expect(await acquireLease(db, id, 'a', 60_000)).toBe(true)
    expect(await acquireLease(db, id, 'b', 60_000)).toBe(false)
    expect(await acquireLease(db, id, 'a', 60_000)).toBe(true)
    expect(await renewLease(db, id, 'a', 60_000)).toBe(true)
    expect(await renewLease(db, id, 'b', 60_000)).toBe(false)
  })

  it('releases only a lease that is still ours', async () => {
    const id = nextId()
    const past = () => new Date(Date.now() - 120_000)
    await acquireLease(db, id, 'a', 60_000, { now: past })
    expect(await acquireLease(db, id, 'b', 60_000)).toBe(true)
    expect(await releaseLease(db, id, 'a')).toBe(false)
    expect(await releaseLease(db, id, 'b')).toBe(true)
    expect(await acquireLease(db, id, 'c', 60_000)).toBe(true)
  })
})

describe('checkpoints', () => {
  it('saves the list version as the watch starting point and clears relist and error', async () => {
    const checkpoints = checkpointsFor(db, 'cp', deployments)
    expect(checkpoints.id).toBe('cp/apps/v1/deployments')
    expect(await checkpoints.getState()).toBeNull()
    await checkpoints.recordError('boom')
    await checkpoints.markNeedsRelist('410 Gone on watch')
    await checkpoints.saveListCheckpoint('120', { listed: 3, inserted: 3 })
    expect(await checkpoints.getState()).toMatchObject({
      cluster: 'cp',
      resource: 'apps/v1/deployments',
      listResourceVersion: '120',
      watchResourceVersion: '120',
      needsRelist: false,
      lastError: null,
      lastListCounts: { listed: 3, inserted: 3 },
    })
    await checkpoints.saveWatchCheckpoint('130', { events: 4 })
    const state = await checkpoints.getState()
    expect(state).toMatchObject({ listResourceVersion: '120', watchResourceVersion: '130' })
    expect(state?.lastWatchAt).toBeInstanceOf(Date)
    expect(state?.lastFullSyncAt).toBeInstanceOf(Date)
  })

  it('keeps the lease when checkpoints are saved', async () => {
    const checkpoints = checkpointsFor(db, 'cp2', deployments)
    expect(await acquireLease(db, checkpoints.id, 'me', 60_000)).toBe(true)
    await checkpoints.saveWatchCheckpoint('5', {})
    expect((await checkpoints.getState())?.lease?.owner).toBe('me')
  })
})
