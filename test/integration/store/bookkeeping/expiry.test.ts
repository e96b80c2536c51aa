import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../../../lib/config.js'
import type { ResolvedResource } from '../../../../lib/kube/types.js'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { serverProfileOf } from '../../../../lib/store/connection/server-profile.js'
import { deadLettersOf, type DeadLetter } from '../../../../lib/store/bookkeeping/dead-letters.js'
import { tombstonesOf, type Tombstone } from '../../../../lib/store/bookkeeping/tombstones.js'
import { mongoResourceStore } from '../../../../lib/store/resource-store.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import { createPacing } from '../../../../lib/store/writes/adaptive-pacing.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

/*
 * Tombstones and dead letters expire (docs/design.md#bookkeeping-collections):
 * MongoDB by TTL indexes, a server without them (FerretDB) by the sweep the
 * store runs before a reconcile. The store's ensureIndexes is where both start,
 * and where the bookkeeping collections get the indexes their reads use
 * (docs/design.md#indexes).
 */

let db: Db
let config: Config

beforeAll(async () => {
  ;({ db, config } = await freshDb({
    CLUSTER_NAME: 'exp',
    TOMBSTONE_TTL_DAYS: '3',
    DEAD_LETTER_TTL_DAYS: '5',
  }))
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

const resolved: ResolvedResource = {
  ref: parseResourceRef('v1/configmaps')!,
  kind: 'ConfigMap',
  namespaced: true,
  apiVersion: 'v1',
}

/** The store as a reconcile of `resolved` uses it: its ensureIndexes is what these tests run. */
const storeOf = () =>
  mongoResourceStore(db, resolved, {
    config,
    secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    guard: unguarded,
    pacing: createPacing(config),
  })

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600 * 1000)

const tombstone = (uid: string, deletedAt: Date): Tombstone => ({
  _id: `other/${uid}`,
  cluster: 'other',
  resource: 'v1/pods',
  uid,
  resourceVersion: '5',
  deletedAt,
})

const deadLetter = (uid: string, lastFailedAt: Date): DeadLetter => ({
  _id: `other/v1/pods/${uid}`,
  cluster: 'other',
  resource: 'v1/pods',
  uid,
  namespace: 'ns',
  name: uid,
  resourceVersion: '5',
  operation: 'insert',
  kind: 'too-large',
  reason: 'too large',
  code: 10334,
  attempts: 1,
  firstFailedAt: lastFailedAt,
  lastFailedAt,
  source: 'reconcile',
})

describe('bookkeeping expiry', () => {
  it('expires tombstones and dead letters past their TTL: TTL indexes on MongoDB, a sweep where there are none', async () => {
    await tombstonesOf(db).insertMany([tombstone('old', daysAgo(4)), tombstone('new', daysAgo(2))])
    await deadLettersOf(db).insertMany([
      deadLetter('old', daysAgo(6)),
      deadLetter('new', daysAgo(4)),
    ])
    const store = storeOf()

    await store.ensureIndexes()

    if ((await serverProfileOf(db)).ttlIndexes) {
      const ttlOf = async (collection: string) =>
        (await db.collection(collection).listIndexes().toArray())
          .filter((index) => index.expireAfterSeconds !== undefined)
          .map((index) => ({ key: index.key, expireAfterSeconds: index.expireAfterSeconds }))
      expect(await ttlOf('sync_tombstones')).toEqual([
        { key: { deletedAt: 1 }, expireAfterSeconds: 3 * 86400 },
      ])
      expect(await ttlOf('sync_dead_letters')).toEqual([
        { key: { lastFailedAt: 1 }, expireAfterSeconds: 5 * 86400 },
      ])
    } else {
      expect((await tombstonesOf(db).find().toArray()).map((t) => t.uid)).toEqual(['new'])
      expect((await deadLettersOf(db).find().toArray()).map((d) => d.uid)).toEqual(['new'])
    }
  })

  it('indexes the bookkeeping reads by what they are about: a lease by its own claims, tombstones and dead letters by cluster and resource', async () => {
    const store = storeOf()
    await store.ensureIndexes()
    const keysOf = async (collection: string) =>
      Object.fromEntries(
        (await db.collection(collection).listIndexes().toArray()).map((i) => [i.name, i.key]),
      )
    expect(await keysOf('sync_leases')).toMatchObject({
      stateId_generation: { stateId: 1, generation: -1 },
    })
    expect(await keysOf('sync_tombstones')).toMatchObject({
      cluster_resource: { cluster: 1, resource: 1 },
    })
    expect(await keysOf('sync_dead_letters')).toMatchObject({
      cluster_resource_namespace: { cluster: 1, resource: 1, namespace: 1 },
    })
  })
})
