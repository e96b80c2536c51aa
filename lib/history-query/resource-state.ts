/**
 * "What did the whole resource look like at T?" (docs/history.md#the-state-of-a-whole-resource-as-of-t):
 * per uid, the latest version observed at or before T, leaving out the uids
 * whose latest is DELETED. On MongoDB this is ONE aggregation
 * (resourceStateAsOfPipeline). FerretDB 1.x implements no `$group`
 * accumulator but `$sum` and `$count` (code 238 NotImplemented for `$first`),
 * so there the same answer comes from one find over the same index range,
 * reduced per uid as it streams (resourceStateByScan): it reads the same
 * versions the aggregation's `$match` reads, and keeps one small row per uid.
 */
import type { Db, Document, Filter } from 'mongodb'
import { HISTORY_COLLECTION, type HistoryVersion } from './types.js'
import { compareObserved } from './version-order.js'

export interface ResourceStateQuery {
  readonly cluster: string
  readonly resource: string
  readonly at: Date
  /** Only this namespace (all when absent; null: cluster-scoped objects). */
  readonly namespace?: string | null
}

/** One live object as of T: the version that was current then. */
export interface StateRow {
  readonly uid: string
  readonly namespace: string | null
  readonly name: string
  readonly resourceVersion: string
  readonly observedAt: Date
  readonly type: 'ADDED' | 'MODIFIED'
  readonly complete: boolean
}

export interface ResourceState {
  readonly rows: StateRow[]
  /** How it was computed: the aggregation, or the portable find (FerretDB 1.x). */
  readonly method: 'aggregation' | 'scan'
}

/** Keys in the order of the contract's index {cluster, resource, namespace, name, observedAt: -1}. */
export function stateFilter(query: ResourceStateQuery): Filter<HistoryVersion> {
  return {
    cluster: query.cluster,
    resource: query.resource,
    ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
    observedAt: { $lte: query.at },
  }
}

/**
 * The one aggregation (MongoDB 4.4+; the docs print it for mongosh). Ties on
 * observedAt (one watch batch) are broken by the resourceVersion as an integer:
 * more digits first, then the digits.
 */
export function resourceStateAsOfPipeline(query: ResourceStateQuery): Document[] {
  return [
    { $match: stateFilter(query) },
    { $addFields: { rvDigits: { $strLenCP: '$resourceVersion' } } },
    { $sort: { observedAt: -1, rvDigits: -1, resourceVersion: -1 } },
    {
      $group: {
        _id: '$uid',
        type: { $first: '$type' },
        namespace: { $first: '$namespace' },
        name: { $first: '$name' },
        resourceVersion: { $first: '$resourceVersion' },
        observedAt: { $first: '$observedAt' },
        complete: { $first: '$complete' },
      },
    },
    { $match: { type: { $ne: 'DELETED' } } },
    { $sort: { namespace: 1, name: 1 } },
    {
      $project: {
        _id: 0,
        uid: '$_id',
        namespace: 1,
        name: 1,
        resourceVersion: 1,
        observedAt: 1,
        type: 1,
        complete: 1,
      },
    },
  ]
}

const byNamespaceAndName = (a: StateRow, b: StateRow) =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name)

/** The portable equivalent: one find over the same range, the latest per uid kept as it streams. */
export async function resourceStateByScan(db: Db, query: ResourceStateQuery): Promise<StateRow[]> {
  const cursor = db
    .collection<HistoryVersion>(HISTORY_COLLECTION)
    .find<StateRow>(stateFilter(query), {
      projection: {
        _id: 0,
        uid: 1,
        namespace: 1,
        name: 1,
        resourceVersion: 1,
        observedAt: 1,
        type: 1,
        complete: 1,
      },
    })
  const latest = new Map<string, StateRow>()
  for await (const row of cursor) {
    const held = latest.get(row.uid)
    if (!held || compareObserved(row, held) > 0) latest.set(row.uid, row)
  }
  return [...latest.values()]
    .filter((row) => (row.type as string) !== 'DELETED')
    .sort(byNamespaceAndName)
}

/** MongoDB's and FerretDB's answer to an operator or stage the server does not implement. */
const NOT_IMPLEMENTED = 238

/** The state as of `query.at`: the aggregation, or the scan where the server lacks `$first`. */
export async function resourceStateAsOf(db: Db, query: ResourceStateQuery): Promise<ResourceState> {
  try {
    const rows = await db
      .collection(HISTORY_COLLECTION)
      .aggregate<StateRow>(resourceStateAsOfPipeline(query), { allowDiskUse: true })
      .toArray()
    return { rows, method: 'aggregation' }
  } catch (error) {
    if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED) throw error
    return { rows: await resourceStateByScan(db, query), method: 'scan' }
  }
}
