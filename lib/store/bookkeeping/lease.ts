import type { Collection, Db } from 'mongodb'
import { isDuplicateKeyError } from '../connection/driver-errors.js'
import { stateCollectionOf, type Lease } from './sync-state.js'

/**
 * One claim of a lease. Claims of one resource are numbered; `_id` is
 * `<stateId>#<generation>`, so two takers of the same generation collide on
 * the unique `_id` and exactly one insert succeeds.
 */
export interface LeaseClaim {
  _id: string
  stateId: string
  generation: number
  /** null: released. */
  owner: string | null
  expiresAt: Date
}

/**
 * What a take, renewal or release of a lease found. Refused: the newest claim
 * as it stood, so a caller can say who holds the lease and until when
 * (`holder` null: nobody, the lease was released or never taken).
 */
export type LeaseAnswer =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder: string | null; readonly expiresAt: Date | null }

const LEASE_COLLECTION = 'sync_leases'

export interface LeaseOptions {
  readonly now?: () => Date
}

/*
 * Why claims and not one findOneAndUpdate on sync_state: a conditional update
 * is atomic on MongoDB, but FerretDB 1.x (SQLite) reads and writes an update
 * outside one transaction (FerretDB#3040), and 20 concurrent takers of an
 * expired lease there saw 4 winners. An insert on a unique `_id` is atomic on
 * every MongoDB-compatible server, so the lease is built on that:
 *  1. read the newest claim;
 *  2. if it is free (released or expired) or ours, insert generation + 1;
 *  3. a duplicate key means someone else claimed that generation: not ours;
 *  4. read the newest claim again: a slow taker may have inserted a generation
 *     that an earlier cleanup had removed; only the newest claim holds.
 * Renewal and release are claims too, so they race with takers on the same
 * unique key instead of overwriting a takeover.
 *
 * A lease is short (LEASE_TTL_MS, a minute) and renewed while its work runs
 * (lib/sync/lease-keeper.ts): a holder that dies without releasing it (out of
 * memory, a hard timeout, a killed container) blocks its resource for one TTL
 * at most (docs/design.md#bookkeeping-collections).
 */

export function claimsOf(db: Db): Collection<LeaseClaim> {
  return db.collection<LeaseClaim>(LEASE_COLLECTION)
}

/**
 * Indexes besides `_id` (docs/design.md#indexes): every take, renewal and
 * release reads one resource's newest claim and removes its older ones, so a
 * fleet of many (cluster, resource) leases costs each lease its own claims.
 */
export const leaseIndexes = [
  { key: { stateId: 1, generation: -1 }, name: 'stateId_generation' },
] as const

function newest(claims: Collection<LeaseClaim>, id: string): Promise<LeaseClaim | null> {
  return claims.find({ stateId: id }).sort({ generation: -1 }).limit(1).next()
}

const refused = (current: LeaseClaim | null): LeaseAnswer => ({
  acquired: false,
  holder: current?.owner ?? null,
  expiresAt: current?.owner ? current.expiresAt : null,
})

async function claim(
  db: Db,
  id: string,
  next: { owner: string | null; expiresAt: Date },
  mayClaim: (current: LeaseClaim | null) => boolean,
): Promise<LeaseAnswer> {
  const claims = claimsOf(db)
  const current = await newest(claims, id)
  if (!mayClaim(current)) return refused(current)
  const generation = (current?.generation ?? 0) + 1
  const record: LeaseClaim = { _id: `${id}#${generation}`, stateId: id, generation, ...next }
  try {
    await claims.insertOne(record)
  } catch (error) {
    if (isDuplicateKeyError(error)) return refused(await newest(claims, id))
    throw error
  }
  const winner = await newest(claims, id)
  if (winner?.generation !== generation) {
    await claims.deleteOne({ _id: record._id })
    return refused(winner)
  }
  await claims.deleteMany({ stateId: id, generation: { $lt: generation } })
  await mirror(
    db,
    id,
    next.owner === null ? null : { owner: next.owner, expiresAt: next.expiresAt },
  )
  return { acquired: true }
}

/**
 * sync_state.lease shows the holder to people reading the collection (docs/design.md#bookkeeping-collections).
 * It is informational: the claims decide. A racing upsert of the same new
 * document may fail with a duplicate key on FerretDB; the document then exists.
 */
async function mirror(db: Db, id: string, lease: Lease | null): Promise<void> {
  const states = stateCollectionOf(db)
  try {
    await states.updateOne({ _id: id }, { $set: { lease } }, { upsert: true })
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error
    await states.updateOne({ _id: id }, { $set: { lease } })
  }
}

const isLive = (c: LeaseClaim, now: Date) =>
  c.owner !== null && c.expiresAt.getTime() >= now.getTime()

/** Takes the lease of `sync_state` id when it is free, expired or already ours; refused (naming the holder) while someone else holds it. */
export function acquireLease(
  db: Db,
  id: string,
  owner: string,
  ttlMs: number,
  options: LeaseOptions = {},
): Promise<LeaseAnswer> {
  const now = options.now?.() ?? new Date()
  return claim(
    db,
    id,
    { owner, expiresAt: new Date(now.getTime() + ttlMs) },
    (c) => c === null || !isLive(c, now) || c.owner === owner,
  )
}

/**
 * Extends our live lease by `ttlMs` from now; refused when it expired or was
 * taken over: the caller has lost it and must stop writing.
 */
export function renewLease(
  db: Db,
  id: string,
  owner: string,
  ttlMs: number,
  options: LeaseOptions = {},
): Promise<LeaseAnswer> {
  const now = options.now?.() ?? new Date()
  return claim(
    db,
    id,
    { owner, expiresAt: new Date(now.getTime() + ttlMs) },
    (c) => c !== null && c.owner === owner && isLive(c, now),
  )
}

/** Frees the lease if it is still ours (acquired: true); a lease taken over meanwhile is left to its new owner. */
export function releaseLease(
  db: Db,
  id: string,
  owner: string,
  options: LeaseOptions = {},
): Promise<LeaseAnswer> {
  const now = options.now?.() ?? new Date()
  return claim(db, id, { owner: null, expiresAt: now }, (c) => c !== null && c.owner === owner)
}
