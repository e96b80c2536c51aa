import type { MongoClient } from 'mongodb'

import {
  acquireLease,
  claimsOf,
  leaseIndexes,
  releaseLease,
} from '../../lib/store/bookkeeping/lease.js'
import { serverProfileOf } from '../../lib/store/connection/server-profile.js'
import { ensureIndexes } from '../../lib/store/documents/indexes.js'
import { median } from './stats.js'

/*
 * What one lease costs beside a fleet's others: a task takes its (cluster,
 * resource) lease, renews it every LEASE_RENEW_INTERVAL_MS and releases it,
 * and each of those reads the resource's newest claim and removes its older
 * ones. On MongoDB the `stateId_generation` index keeps that to the lease's
 * own claims; a server that answers only `{_id}` filters from an index
 * (FerretDB 1.x) reads every lease's claim (docs/design.md#indexes).
 */

const DB_NAME = 'kmsbench_fleet_leases'
const SELF = 'self/v1/configmaps'
const CYCLES = 15
/** Other leases beside: a 20-cluster and a 200-cluster fleet of 10 resources. */
const FLEETS = [200, 2000] as const

export interface LeaseFigure {
  /** Whether the server reads these by index (false: FerretDB 1.x scans). */
  indexedReads: boolean
  /** Median of one acquire + release, alone and beside N other leases' claims. */
  aloneMs: number
  besideMs: Record<string, number>
}

export async function benchLeases(
  mongo: MongoClient,
  log: (line: string) => void,
): Promise<LeaseFigure> {
  const db = mongo.db(DB_NAME)
  await db.dropDatabase()
  await ensureIndexes(claimsOf(db), leaseIndexes)
  const cycle = async () => {
    const ms: number[] = []
    for (let i = 0; i < CYCLES; i++) {
      const t0 = performance.now()
      if (!(await acquireLease(db, SELF, 'bench', 60_000)).acquired)
        throw new Error('lease bench: not acquired')
      await releaseLease(db, SELF, 'bench')
      ms.push(performance.now() - t0)
    }
    return Math.round(median(ms) * 10) / 10
  }
  try {
    await cycle() // warm-up
    const aloneMs = await cycle()
    const besideMs: Record<string, number> = {}
    let added = 0
    for (const others of FLEETS) {
      const docs = Array.from({ length: others - added }, (_, i) => ({
        _id: `other-${added + i}/v1/configmaps#1`,
        stateId: `other-${added + i}/v1/configmaps`,
        generation: 1,
        owner: null,
        expiresAt: new Date(),
      }))
      await claimsOf(db).insertMany(docs)
      added = others
      besideMs[String(others)] = await cycle()
    }
    const indexedReads = !(await serverProfileOf(db)).readByIdOnly
    log(`fleet leases: acquire + release ${aloneMs} ms alone, ${JSON.stringify(besideMs)} beside`)
    return { indexedReads, aloneMs, besideMs }
  } finally {
    await db.dropDatabase()
  }
}
