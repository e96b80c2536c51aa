import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../../../lib/config.js'
import type { ResolvedResource } from '../../../../lib/kube/types.js'
import { parseResourceRef } from '../../../../lib/resource-ref.js'
import { tombstonesOf, type Tombstone } from '../../../../lib/store/bookkeeping/tombstones.js'
import { mongoResourceStore } from '../../../../lib/store/resource-store.js'
import { unguarded } from '../../../../lib/resilience/circuit-breaker.js'
import { createPacing } from '../../../../lib/store/writes/adaptive-pacing.js'
import { dropAndDisconnect, freshDb } from '../helpers.js'

/*
 * The prune after a complete list, through the store port: tombstones of
 * opaque (non-decimal) resourceVersions, which have no order, are retired
 * once they are older than the list (docs/design.md#bookkeeping-collections).
 */

let db: Db
let config: Config

beforeAll(async () => {
  ;({ db, config } = await freshDb({ CLUSTER_NAME: 'tomb' }))
})
afterAll(async () => {
  await dropAndDisconnect(db)
})

const resolved: ResolvedResource = {
  ref: parseResourceRef('example.com/v1/opaques')!,
  kind: 'Opaque',
  namespaced: true,
  apiVersion: 'example.com/v1',
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000)

const tombstone = (uid: string, resourceVersion: string, deletedAt: Date): Tombstone => ({
  _id: `tomb/${uid}`,
  cluster: 'tomb',
  resource: resolved.ref.id,
  uid,
  resourceVersion,
  deletedAt,
})

describe('tombstone prune after a complete list', () => {
  it('prunes tombstones of opaque resourceVersions written before the list started, and keeps newer ones', async () => {
    await tombstonesOf(db).insertMany([
      tombstone('opaque-old', 'Zm9v', minutesAgo(10)),
      tombstone('opaque-new', 'YmFy', new Date()),
      tombstone('decimal-below', '40', minutesAgo(10)),
      tombstone('decimal-above', '60', minutesAgo(10)),
    ])
    const store = mongoResourceStore(db, resolved, {
      config,
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
      guard: unguarded,
      pacing: createPacing(config),
    })
    // A list pass starts by loading the versions, and ends with the prune.
    await store.loadVersions()
    await store.pruneTombstones('50')

    const left = await tombstonesOf(db).find({ cluster: 'tomb' }).toArray()
    expect(left.map((t) => t.uid).sort()).toEqual(['decimal-above', 'opaque-new'])
  })
})
