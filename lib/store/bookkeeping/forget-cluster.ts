import type { Collection, Db } from 'mongodb'
import { logger } from '../../log.js'
import { SyncError } from '../../errors.js'
import {
  collectionNameOf,
  parseResourceRef,
  stateIdOf,
  type ResourceRef,
} from '../../resource-ref.js'
import type { ServerProfile } from '../connection/server-profile.js'
import type { InventoryDocument } from '../documents/mapper.js'
import { deadLettersOf } from './dead-letters.js'
import { deleteByIds, deleteSnapshot, snapshotDocumentIds } from './forget-by-id.js'
import { acquireLease, releaseLease } from './lease.js'
import { stateCollectionOf } from './sync-state.js'
import { tombstonesOf } from './tombstones.js'
import { VERSION_SNAPSHOT_COLLECTION } from './version-snapshot.js'

/*
 * `{"forget": "<cluster>"}`: every document of one cluster goes, its
 * inventory in every resource collection and all its bookkeeping
 * (docs/design.md#forgetting-a-cluster). Refusing while the cluster is in the
 * registry is the caller's; this is the store operation.
 *
 * Never another cluster's: the cluster's bookkeeping is found by its `cluster`
 * field (an equality) or by the `_id` range of `<cluster>/`, and a cluster name
 * has no `/`, so `prod` never matches `prod-eu/...` or `prod0/...`.
 *
 * Safe to run again after a crash: each resource goes inventory first, then
 * its snapshot, lease claims and sync_state last, so whatever a cut-short run
 * left is found again the same way.
 */

/** sync_leases (lease.ts): claims `_id` `<stateId>#<generation>`. */
const LEASE_COLLECTION = 'sync_leases'

export interface ForgetOptions {
  /** The server's capabilities: by filter on MongoDB, by `_id` lists where only `{_id}` is cheap. */
  readonly profile: Pick<ServerProfile, 'readByIdOnly'>
  readonly log?: Pick<typeof logger, 'info'>
  /** Resource ids to forget beside those the cluster has sync_state for (e.g. its last registry entry). */
  readonly resources?: readonly string[]
  /** Who holds each resource's lease while its documents go; the same owner takes it back on a re-run. */
  readonly owner?: string
  /** How long that lease is taken for: long enough for a large resource, since nothing renews it. */
  readonly leaseTtlMs?: number
}

/**
 * How one resource's inventory documents were found: a filter (MongoDB), the
 * version snapshot, one read of the collection, or not at all (no snapshot
 * and no sync_state: the sync never wrote it for the cluster).
 */
export type ForgetSource = 'filter' | 'snapshot' | 'collection-scan' | 'never-written'

export interface ForgottenResource {
  readonly resource: string
  readonly collection: string
  readonly deleted: number
  readonly source: ForgetSource
}

export interface ForgottenBookkeeping {
  syncStates: number
  leases: number
  tombstones: number
  deadLetters: number
  /** Version snapshot parts, journal entries and write tokens. */
  snapshots: number
}

export interface ForgetResult {
  readonly cluster: string
  readonly resources: readonly ForgottenResource[]
  readonly bookkeeping: ForgottenBookkeeping
}

/** A bookkeeping collection as far as deleting by `_id` goes: every `_id` here is a string. */
const keyed = (db: Db, name: string) => db.collection<{ _id: string }>(name)

/** CLUSTER_NAME's rule (lib/config-variables.ts): above all, no `/`, so the `_id` ranges below are one cluster's. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

const DEFAULT_LEASE_TTL_MS = 15 * 60_000

/** `_id`s that start with `<prefix>`: `[prefix, prefix with its last character's successor)`. */
function idsUnder(prefix: string): { _id: { $gte: string; $lt: string } } {
  const last = prefix.charCodeAt(prefix.length - 1)
  return { _id: { $gte: prefix, $lt: prefix.slice(0, -1) + String.fromCharCode(last + 1) } }
}

/** The resource a sync_state `_id` names: `<cluster>/<group>/<version>/<plural>`. */
function resourceOfStateId(cluster: string, id: string): ResourceRef | undefined {
  const [group, version, plural, ...rest] = id.slice(cluster.length + 1).split('/')
  if (rest.length > 0 || version === undefined || plural === undefined) return undefined
  return parseResourceRef(group ? `${group}/${version}/${plural}` : `${version}/${plural}`)
}

/**
 * The cluster's resources: those its sync_state names (found by `_id` range:
 * one small document per (cluster, resource), whatever the server) and the
 * caller's, each once, in id order. `stated` says which had a sync_state.
 */
async function resourcesOf(
  db: Db,
  cluster: string,
  extra: readonly string[],
): Promise<{ refs: ResourceRef[]; stated: Set<string> }> {
  const states = await stateCollectionOf(db)
    .find(idsUnder(`${cluster}/`), { projection: { _id: 1 } })
    .toArray()
  const byId = new Map<string, ResourceRef>()
  const stated = new Set<string>()
  for (const { _id } of states) {
    const ref = _id.startsWith(`${cluster}/`) ? resourceOfStateId(cluster, _id) : undefined
    if (!ref) continue
    byId.set(ref.id, ref)
    stated.add(ref.id)
  }
  for (const id of extra) {
    const ref = parseResourceRef(id)
    if (!ref) throw new SyncError(`cannot forget ${cluster}: "${id}" is not a resource id`)
    byId.set(ref.id, ref)
  }
  const refs = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { refs, stated }
}

/**
 * Deletes every document of `cluster`: its inventory documents in every
 * resource collection it has state for (and `options.resources`), then its
 * sync_state, lease claims, tombstones, dead letters, version snapshots,
 * journals and write tokens. Logs `forget.progress` per resource and
 * `forget.done`. Takes every resource's lease first and throws, having
 * deleted nothing, when one is held by someone else (a sync of the cluster
 * still running).
 */
export async function forgetCluster(
  db: Db,
  cluster: string,
  options: ForgetOptions,
): Promise<ForgetResult> {
  if (!CLUSTER_NAME.test(cluster))
    throw new SyncError(`cannot forget cluster "${cluster}": not a cluster name`)
  const log = options.log ?? logger
  const started = Date.now()
  const { refs, stated } = await resourcesOf(db, cluster, options.resources ?? [])
  const bookkeeping: ForgottenBookkeeping = {
    syncStates: 0,
    leases: 0,
    tombstones: 0,
    deadLetters: 0,
    snapshots: 0,
  }
  await takeLeases(db, cluster, refs, options)
  const resources: ForgottenResource[] = []
  for (const ref of refs) {
    const done = await forgetResource(db, cluster, ref, stated.has(ref.id), options, bookkeeping)
    resources.push(done)
    log.info(`forgot ${done.deleted} documents of ${cluster} in ${done.collection}`, {
      event: 'forget.progress',
      cluster,
      ...done,
      resourcesDone: resources.length,
      resourcesTotal: refs.length,
    })
  }
  await forgetClusterBookkeeping(db, cluster, options.profile, bookkeeping)
  const deleted = resources.reduce((sum, r) => sum + r.deleted, 0)
  log.info(`forgot cluster ${cluster}: ${deleted} documents in ${resources.length} resources`, {
    event: 'forget.done',
    cluster,
    resources: resources.length,
    deleted,
    ...bookkeeping,
    durationMs: Date.now() - started,
  })
  return { cluster, resources, bookkeeping }
}

/**
 * Every resource's lease, so that no sync of the cluster writes while its
 * documents go (nothing renews them: they last `leaseTtlMs`, and the forget
 * deletes them). One held by someone else: those taken are released and the
 * forget refused, naming the holder.
 */
async function takeLeases(
  db: Db,
  cluster: string,
  refs: readonly ResourceRef[],
  options: ForgetOptions,
): Promise<void> {
  const owner = options.owner ?? `forget/${cluster}`
  const taken: string[] = []
  for (const ref of refs) {
    const stateId = stateIdOf(cluster, ref)
    const lease = await acquireLease(db, stateId, owner, options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS)
    if (lease.acquired) {
      taken.push(stateId)
      continue
    }
    for (const id of taken) await releaseLease(db, id, owner)
    throw new SyncError(
      `cannot forget ${cluster} now: the lease of ${ref.id} is held by ${lease.holder} until ${lease.expiresAt?.toISOString()}`,
      { context: { cluster, resource: ref.id } },
    )
  }
}

/** One resource of the cluster, under its lease: its inventory documents, then its snapshot, lease claims and sync_state. */
async function forgetResource(
  db: Db,
  cluster: string,
  ref: ResourceRef,
  hasState: boolean,
  options: ForgetOptions,
  bookkeeping: ForgottenBookkeeping,
): Promise<ForgottenResource> {
  const stateId = stateIdOf(cluster, ref)
  const collection = db.collection<InventoryDocument>(collectionNameOf(ref))
  const { deleted, source } = await deleteInventory(db, collection, cluster, stateId, {
    byIdOnly: options.profile.readByIdOnly,
    hasState,
  })
  if (options.profile.readByIdOnly) bookkeeping.snapshots += await deleteSnapshot(db, stateId)
  bookkeeping.leases += (
    await keyed(db, LEASE_COLLECTION).deleteMany(idsUnder(`${stateId}#`))
  ).deletedCount
  bookkeeping.syncStates += (await stateCollectionOf(db).deleteOne({ _id: stateId })).deletedCount
  return { resource: ref.id, collection: collection.collectionName, deleted, source }
}

/**
 * The cluster's documents in one resource collection. MongoDB: one
 * `{cluster}` delete, a prefix of the `cluster_namespace_name` index
 * (docs/design.md#indexes). Where only `{_id}` is cheap: the `_id`s the
 * version snapshot knows; without a whole snapshot (and with a sync_state,
 * so something may be stored) the collection is read once for them.
 */
async function deleteInventory(
  db: Db,
  collection: Collection<InventoryDocument>,
  cluster: string,
  stateId: string,
  how: { byIdOnly: boolean; hasState: boolean },
): Promise<{ deleted: number; source: ForgetSource }> {
  if (!how.byIdOnly)
    return { deleted: (await collection.deleteMany({ cluster })).deletedCount, source: 'filter' }
  const known = await snapshotDocumentIds(db, cluster, stateId)
  if (known) return { deleted: await deleteByIds(collection, known), source: 'snapshot' }
  // No snapshot and no sync_state: the sync never wrote this resource for the cluster.
  if (!how.hasState) return { deleted: 0, source: 'never-written' }
  const ids = (await collection.find({ cluster }, { projection: { _id: 1 } }).toArray()).map(
    (d) => d._id,
  )
  return { deleted: await deleteByIds(collection, ids), source: 'collection-scan' }
}

/**
 * What is keyed by cluster rather than by resource, and what no resource
 * named: tombstones and dead letters by their `cluster` field (the
 * `cluster_resource` and `cluster_resource_namespace` index prefixes on
 * MongoDB; where only `{_id}` is cheap these read their whole collections,
 * which the prunes and the expiry keep small), then any sync_state, lease
 * claim and (on MongoDB) snapshot left under `<cluster>/`: sync_state last.
 */
async function forgetClusterBookkeeping(
  db: Db,
  cluster: string,
  profile: Pick<ServerProfile, 'readByIdOnly'>,
  bookkeeping: ForgottenBookkeeping,
): Promise<void> {
  const under = idsUnder(`${cluster}/`)
  bookkeeping.tombstones += (await tombstonesOf(db).deleteMany({ cluster })).deletedCount
  bookkeeping.deadLetters += (await deadLettersOf(db).deleteMany({ cluster })).deletedCount
  // Snapshot parts are large: only where the `_id` range is an index range.
  if (!profile.readByIdOnly)
    bookkeeping.snapshots += (
      await keyed(db, VERSION_SNAPSHOT_COLLECTION).deleteMany(under)
    ).deletedCount
  bookkeeping.leases += (await keyed(db, LEASE_COLLECTION).deleteMany(under)).deletedCount
  bookkeeping.syncStates += (await stateCollectionOf(db).deleteMany(under)).deletedCount
}
