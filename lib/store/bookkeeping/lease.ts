import type { Collection, Db } from 'mongodb'
import { errorFields, logger } from '../../log.js'
import { retryWithBackoff, type RetryPolicy } from '../../retry.js'
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
 */

function claimsOf(db: Db): Collection<LeaseClaim> {
  return db.collection<LeaseClaim>(LEASE_COLLECTION)
}

function newest(claims: Collection<LeaseClaim>, id: string): Promise<LeaseClaim | null> {
  return claims.find({ stateId: id }).sort({ generation: -1 }).limit(1).next()
}

async function claim(
  db: Db,
  id: string,
  next: { owner: string | null; expiresAt: Date },
  mayClaim: (current: LeaseClaim | null) => boolean,
): Promise<boolean> {
  const claims = claimsOf(db)
  const current = await newest(claims, id)
  if (!mayClaim(current)) return false
  const generation = (current?.generation ?? 0) + 1
  const record: LeaseClaim = { _id: `${id}#${generation}`, stateId: id, generation, ...next }
  try {
    await claims.insertOne(record)
  } catch (error) {
    if (isDuplicateKeyError(error)) return false
    throw error
  }
  if ((await newest(claims, id))?.generation !== generation) {
    await claims.deleteOne({ _id: record._id })
    return false
  }
  await claims.deleteMany({ stateId: id, generation: { $lt: generation } })
  await mirror(
    db,
    id,
    next.owner === null ? null : { owner: next.owner, expiresAt: next.expiresAt },
  )
  return true
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

/** Takes the lease of `sync_state` id when it is free, expired or already ours; false when someone else holds it. */
export function acquireLease(
  db: Db,
  id: string,
  owner: string,
  ttlMs: number,
  options: LeaseOptions = {},
) {
  const now = options.now?.() ?? new Date()
  return claim(
    db,
    id,
    { owner, expiresAt: new Date(now.getTime() + ttlMs) },
    (c) => c === null || !isLive(c, now) || c.owner === owner,
  )
}

/** Extends our live lease; false when it expired or was taken over (the caller must stop, or acquire again). */
export function renewLease(
  db: Db,
  id: string,
  owner: string,
  ttlMs: number,
  options: LeaseOptions = {},
) {
  const now = options.now?.() ?? new Date()
  return claim(
    db,
    id,
    { owner, expiresAt: new Date(now.getTime() + ttlMs) },
    (c) => c !== null && c.owner === owner && isLive(c, now),
  )
}

/** Frees the lease if it is still ours; a lease taken over meanwhile is left to its new owner. */
export function releaseLease(db: Db, id: string, owner: string, options: LeaseOptions = {}) {
  const now = options.now?.() ?? new Date()
  return claim(db, id, { owner: null, expiresAt: now }, (c) => c !== null && c.owner === owner)
}

/**
 * Extra lease time beyond the work's own budget, so a lease is not taken over
 * while its holder is saving the checkpoint; a crashed holder's lease expires
 * after budget + this.
 */
const LEASE_GRACE_MS = 30_000

/**
 * Releasing runs after the work, inside the deadline's safety margin: a few
 * quick attempts (0.5 s, 1 s, 2 s) fit in it. A lease left behind blocks the
 * resource until it expires (budget + grace, up to ~15 min in Lambda).
 */
const RELEASE_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 500,
  maxDelayMs: 2000,
  backoffMultiplier: 2,
}

/** Whatever can take and give back the lease of one (cluster, resource). */
export interface LeaseHolder {
  /** True when this owner now holds the lease (taken, renewed, or taken over after expiry). */
  acquireLease(owner: string, ttlMs: number): Promise<boolean>
  releaseLease(owner: string): Promise<void>
}

/** Runs `work` while holding the resource's lease; undefined when another invocation holds it. */
export async function withLease<T>(
  store: LeaseHolder,
  owner: string,
  budgetMs: number,
  work: () => Promise<T>,
): Promise<T | undefined> {
  if (!(await store.acquireLease(owner, budgetMs + LEASE_GRACE_MS))) return undefined
  try {
    return await work()
  } finally {
    await retryWithBackoff(() => store.releaseLease(owner), 'release lease', {
      policy: RELEASE_POLICY,
    }).catch((error: unknown) => {
      // The lease expires by itself; the next run after that takes it over.
      logger.warn('lease not released; it expires by itself', {
        event: 'lease.release-failed',
        ...errorFields(error),
      })
    })
  }
}
