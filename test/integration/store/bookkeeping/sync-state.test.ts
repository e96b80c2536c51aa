import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { checkpointsFor } from '../../../../lib/store/bookkeeping/sync-state.js'
import { acquireLease } from '../../../../lib/store/bookkeeping/lease.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

let db: Db
beforeAll(async () => {
  ;({ db } = await freshDb())
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

const deployments = parseResourceRef('apps/v1/deployments')!

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
    expect(await acquireLease(db, checkpoints.id, 'me', 60_000)).toEqual({ acquired: true })
    await checkpoints.saveWatchCheckpoint('5', {})
    expect((await checkpoints.getState())?.lease?.owner).toBe('me')
  })
})
