import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  nextVersionAfter,
  objectVersions,
  versionAsOf,
  versionBefore,
} from '../../../lib/history-query/object-history.js'
import { freshDb } from '../store/helpers.js'
import { CLUSTER, allStories } from './fixtures.js'
import { at, seedHistory } from './seed-history.js'

const tie = { cluster: CLUSTER, resource: 'v1/configmaps', namespace: 'batch', name: 'tie' }
const web = { cluster: CLUSTER, resource: 'apps/v1/deployments', namespace: 'shop', name: 'web' }

describe("one object's versions by name", () => {
  let db: Db
  let mongo: { disconnectDB: () => Promise<void> }

  beforeAll(async () => {
    ;({ db, mongo } = await freshDb())
    await seedHistory(db, allStories)
  })
  afterAll(async () => {
    await db.dropDatabase()
    await mongo.disconnectDB()
  })

  it('orders versions of one watch batch (one observedAt) by resourceVersion as integers', async () => {
    const versions = await objectVersions(db, tie)
    expect(versions.map((v) => v.resourceVersion)).toEqual(['999', '1000'])
    expect((await versionAsOf(db, tie, at('10:03')))?.resourceVersion).toBe('1000')
    expect((await nextVersionAfter(db, tie, at('10:02')))?.resourceVersion).toBe('999')
  })

  it('answers as of T with the latest version by then, a DELETED one included', async () => {
    expect((await versionAsOf(db, web, at('10:05')))?.resourceVersion).toBe('105')
    expect(await versionAsOf(db, web, at('10:35'))).toMatchObject({
      type: 'DELETED',
      uid: 'web-uid-1',
    })
    expect(await versionAsOf(db, web, at('09:59'))).toBeUndefined()
    expect((await versionBefore(db, web, at('10:05')))?.resourceVersion).toBe('100')
  })

  it('reads the next version without its object or patch', async () => {
    const next = await nextVersionAfter(db, web, at('10:12'))
    expect(next).toMatchObject({ resourceVersion: '130', complete: false })
    expect(next).not.toHaveProperty('object')
    expect(next).not.toHaveProperty('patch')
  })

  it('leaves the objects on the server when only the patches are needed', async () => {
    const versions = await objectVersions(db, web, at('10:05'), { withObjects: false })
    expect(versions.map((v) => v.resourceVersion)).toEqual(['105', '110', '130', '140', '150'])
    expect(versions.every((v) => Object.keys(v.object).length === 0)).toBe(true)
    expect(versions[0]!.patch.length).toBeGreaterThan(0)
  })
})
