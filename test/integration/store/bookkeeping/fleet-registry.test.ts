import type { Db } from 'mongodb'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  FLEET_COLLECTION,
  readFleetRegistry,
  saveFleetRegistry,
} from '../../../../lib/store/bookkeeping/fleet-registry.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

/* The sync_fleet registry document on the stack's server. */

let db: Db

beforeAll(async () => {
  ;({ db } = await freshDb())
})
beforeEach(async () => {
  await db.collection(FLEET_COLLECTION).deleteMany({})
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

const plannedAt = new Date('2026-12-01T10:00:00.000Z')

describe('the fleet registry (sync_fleet, _id "registry")', () => {
  it('is absent until a plan saves it', async () => {
    expect(await readFleetRegistry(db)).toBeUndefined()
  })

  it('reads back what was saved', async () => {
    const registry = {
      clusters: [
        { name: 'prod-eu', resources: ['v1/pods', 'apps/v1/deployments'] },
        { name: 'prod-us', resources: [] },
      ],
      plannedAt,
    }
    await saveFleetRegistry(db, registry)
    expect(await readFleetRegistry(db)).toEqual(registry)
    const stored = await db.collection(FLEET_COLLECTION).find({}).toArray()
    expect(stored.map((d) => d._id)).toEqual(['registry'])
  })

  it('is replaced whole by the next plan: a cluster left out is no longer listed', async () => {
    await saveFleetRegistry(db, {
      clusters: [
        { name: 'a', resources: ['v1/pods'] },
        { name: 'b', resources: ['v1/pods'] },
      ],
      plannedAt,
    })
    const later = new Date(plannedAt.getTime() + 60_000)
    await saveFleetRegistry(db, {
      clusters: [{ name: 'a', resources: ['v1/configmaps'] }],
      plannedAt: later,
    })
    expect(await readFleetRegistry(db)).toEqual({
      clusters: [{ name: 'a', resources: ['v1/configmaps'] }],
      plannedAt: later,
    })
  })

  it('keeps one document when plans save it concurrently', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        saveFleetRegistry(db, {
          clusters: [{ name: `c${i}`, resources: [] }],
          plannedAt,
        }),
      ),
    )
    expect(await db.collection(FLEET_COLLECTION).countDocuments()).toBe(1)
    expect((await readFleetRegistry(db))?.clusters).toHaveLength(1)
  })

  it('names what is wrong with a document edited by hand instead of guessing the fleet', async () => {
    await db
      .collection<{ _id: string; clusters: unknown; plannedAt: Date }>(FLEET_COLLECTION)
      .insertOne({ _id: 'registry', clusters: [{ name: 'a', resources: 'v1/pods' }], plannedAt })
    await expect(readFleetRegistry(db)).rejects.toThrow(
      'sync_fleet document "registry" is malformed: clusters[0].resources (a) is not a list of resource ids',
    )
  })
})
