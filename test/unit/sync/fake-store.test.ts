import { beforeEach, describe, expect, it } from 'vitest'
import type { WriteOp } from '../../../lib/store/writes/write-op.js'
import { cm } from './fakes.js'
import { FakeStore } from './fake-store.js'

/*
 * The fake's rules, proven one by one: a sync test can only trust a fake that
 * refuses what the real store refuses (lib/store/writes/protocol/,
 * lib/store/bookkeeping/lease.ts, sync-state.ts).
 */

const TTL_MS = 60_000

let clock: number
let store: FakeStore

beforeEach(async () => {
  clock = 1_000_000
  store = new FakeStore({ now: () => clock })
  await store.acquireLease('me', TTL_MS)
})

const insert = (uid: string, rv: string): WriteOp => ({ type: 'insert', object: cm(uid, rv) })
const replace = (uid: string, rv: string, expected: string): WriteOp => ({
  type: 'replace',
  object: cm(uid, rv),
  expectedResourceVersion: expected,
})
const upsert = (uid: string, rv: string): WriteOp => ({ type: 'upsert', object: cm(uid, rv) })
const del = (uid: string, deletedAt: string, expected?: string): WriteOp => ({
  type: 'delete',
  uid,
  deletedAtResourceVersion: deletedAt,
  ...(expected === undefined ? {} : { expectedResourceVersion: expected }),
})

describe('FakeStore compare-and-swap', () => {
  it('applies a replace whose expected version is still stored', async () => {
    store.docs = new Map([['a', '5']])
    const counts = await store.write([replace('a', '7', '5')])
    expect(counts).toMatchObject({ updated: 1, skippedByGuard: 0 })
    expect(store.docs.get('a')).toBe('7')
  })

  it('refuses a replace whose expected version is no longer stored', async () => {
    // Prepare: a watch stored 9 after the list read 5.
    store.docs = new Map([['a', '9']])
    // Act
    const counts = await store.write([replace('a', '7', '5')])
    // Assess: settled like the slow path, never regressed.
    expect(counts).toMatchObject({ updated: 0, skippedByGuard: 1 })
    expect(store.docs.get('a')).toBe('9')
  })

  it('replaces a stored version older than the object, even when another one was expected', async () => {
    store.docs = new Map([['a', '6']])
    const counts = await store.write([replace('a', '12', '5')])
    expect(counts).toMatchObject({ updated: 1, skippedByGuard: 0 })
    expect(store.docs.get('a')).toBe('12')
  })

  it('counts a replace that finds its own version stored as updated, as the writer on MongoDB does', async () => {
    store.docs = new Map([['a', '7']])
    const counts = await store.write([replace('a', '7', '5')])
    expect(counts).toMatchObject({ updated: 1, skippedByGuard: 0 })
  })

  it('settles an insert of a stored uid by its version: older stored is replaced, same or newer kept', async () => {
    store.docs = new Map([
      ['older', '5'],
      ['same', '5'],
      ['newer', '9'],
    ])
    const counts = await store.write([
      insert('older', '7'),
      insert('same', '5'),
      insert('newer', '7'),
    ])
    expect(counts).toMatchObject({ inserted: 0, updated: 1, skippedByGuard: 2 })
    expect([...store.docs]).toEqual([
      ['older', '7'],
      ['same', '5'],
      ['newer', '9'],
    ])
  })

  it('inserts a replace whose uid is gone from the store but not tombstoned', async () => {
    const counts = await store.write([replace('a', '7', '5')])
    expect(counts).toMatchObject({ inserted: 1 })
    expect(store.docs.get('a')).toBe('7')
  })

  it('upserts a watch event only when it is newer than what is stored, comparing as integers', async () => {
    store.docs = new Map([
      ['a', '9'],
      ['b', '12'],
    ])
    const counts = await store.write([upsert('a', '10'), upsert('b', '11'), upsert('c', '1')])
    expect(counts).toMatchObject({ inserted: 1, updated: 1, skippedByGuard: 1 })
    expect([...store.docs]).toEqual([
      ['a', '10'],
      ['b', '12'],
      ['c', '1'],
    ])
  })

  it('deletes a document the delete expected at its stored version', async () => {
    store.docs = new Map([['a', '5']])
    const counts = await store.write([del('a', '100', '5')])
    expect(counts).toMatchObject({ deleted: 1, skippedByGuard: 0 })
    expect(store.docs.has('a')).toBe(false)
  })

  it('keeps a document a delete expected at an older version, when it is newer than the deletion', async () => {
    // Prepare: the list at 100 did not serve "a", but a watch stored it at 120 since.
    store.docs = new Map([['a', '120']])
    // Act
    const counts = await store.write([del('a', '100', '5')])
    // Assess
    expect(counts).toMatchObject({ deleted: 0, skippedByGuard: 1 })
    expect(store.docs.get('a')).toBe('120')
  })

  it('deletes a document changed since the caller looked, when it is not newer than the deletion', async () => {
    store.docs = new Map([['a', '6']])
    const counts = await store.write([del('a', '9', '5')])
    expect(counts).toMatchObject({ deleted: 1 })
    expect(store.docs.has('a')).toBe(false)
  })

  it('deletes whatever is stored when the delete expects no version (a watch DELETED event)', async () => {
    store.docs = new Map([['a', '5']])
    const counts = await store.write([del('a', '13')])
    expect(counts).toMatchObject({ deleted: 1 })
    expect(store.docs.has('a')).toBe(false)
  })

  it('counts a delete that finds nothing stored as deleted, as the writer on MongoDB does', async () => {
    const counts = await store.write([del('never-stored', '13', '5')])
    expect(counts).toMatchObject({ deleted: 1, skippedByGuard: 0 })
  })

  it('keeps one op per uid: a delete wins, and what it supersedes counts as skipped', async () => {
    store.docs = new Map([['a', '5']])
    const counts = await store.write([upsert('a', '6'), del('a', '7'), upsert('a', '8')])
    expect(counts).toMatchObject({ updated: 0, deleted: 1, skippedByGuard: 2 })
    expect(store.docs.has('a')).toBe(false)
  })
})

describe('FakeStore tombstones', () => {
  it('never re-creates a deleted uid from a stale insert, replace or upsert', async () => {
    store.docs = new Map([['gone', '5']])
    await store.write([del('gone', '9', '5')])
    const counts = await store.write([insert('gone', '5')])
    const replaced = await store.write([replace('gone', '6', '5')])
    const upserted = await store.write([upsert('gone', '7')])
    for (const c of [counts, replaced, upserted])
      expect(c).toMatchObject({ inserted: 0, updated: 0, skippedByGuard: 1 })
    expect(store.docs.has('gone')).toBe(false)
  })

  it('keeps the highest version of a tombstone, and prunes those at or below a complete list', async () => {
    await store.write([del('a', '50'), del('b', '9')])
    await store.write([del('a', '30')])
    expect(store.tombstoneVersions.get('a')).toBe('50')
    await store.pruneTombstones('10')
    expect([...store.tombstones]).toEqual(['a'])
  })

  it('keeps a tombstone seeded without a version through every prune', async () => {
    store.tombstones.add('seeded')
    await store.pruneTombstones('999999')
    expect(store.tombstones.has('seeded')).toBe(true)
  })
})

describe('FakeStore dead letters', () => {
  it('dead-letters a refused write and never stores it', async () => {
    store.refuse = new Set(['bad'])
    const counts = await store.write([insert('bad', '1'), insert('good', '2')])
    expect(counts).toMatchObject({ inserted: 1, deadLettered: 1, skippedByGuard: 0 })
    expect([...store.docs.keys()]).toEqual(['good'])
    expect([...store.deadLetters]).toEqual([['bad', 1]])
  })

  it('refuses nothing where a guard skips the write: nothing is sent', async () => {
    store.docs = new Map([['bad', '9']])
    store.refuse = new Set(['bad'])
    const counts = await store.write([upsert('bad', '8')])
    expect(counts).toMatchObject({ deadLettered: 0, skippedByGuard: 1 })
  })

  it('reports a dead-lettered stored uid at version 0, so the next diff writes it again', async () => {
    store.docs = new Map([
      ['a', '5'],
      ['b', '6'],
    ])
    store.deadLetters = new Map([['a', 1]])
    expect([...(await store.loadVersions())]).toEqual([
      ['a', '0'],
      ['b', '6'],
    ])
  })

  it('clears a dead letter once a write of its uid settles', async () => {
    store.deadLetters = new Map([['a', 2]])
    await store.write([insert('a', '1')])
    expect(store.deadLetters.size).toBe(0)
  })

  it('prunes, after a namespaced list, only the dead letters of those namespaces', async () => {
    store.refuse = new Set(['in-ns', 'elsewhere'])
    await store.write([
      insert('in-ns', '1'),
      { type: 'insert', object: cm('elsewhere', '2', 'other') },
    ])
    await store.pruneDeadLetters(new Set(), ['ns'])
    expect([...store.deadLetters.keys()]).toEqual(['elsewhere'])
  })
})

describe('FakeStore namespaced loads', () => {
  it('loads only the namespaces asked for', async () => {
    await store.write([insert('a', '1'), { type: 'insert', object: cm('b', '2', 'other') }])
    expect([...(await store.loadVersions(['other']))]).toEqual([['b', '2']])
  })

  it('refuses to guess the namespace of a document seeded without one', async () => {
    store.docs = new Map([['seeded', '1']])
    await expect(store.loadVersions(['ns'])).rejects.toThrow(/namespace of stored uid seeded/)
  })
})

describe('FakeStore lease', () => {
  const acquired = { acquired: true }

  it('renews its own lease, and extends it', async () => {
    clock += TTL_MS - 1
    expect(await store.acquireLease('me', TTL_MS)).toEqual(acquired)
    clock += TTL_MS - 1
    expect(await store.acquireLease('other', TTL_MS)).toMatchObject({ acquired: false })
  })

  it('refuses the lease to another owner while it is live, naming the holder and its expiry', async () => {
    const expiresAt = new Date(clock + TTL_MS)
    clock += TTL_MS // expiresAt itself is still live, as in lease.ts
    expect(await store.acquireLease('other', TTL_MS)).toEqual({
      acquired: false,
      holder: 'me',
      expiresAt,
    })
    expect(store.lease?.owner).toBe('me')
  })

  it('lets another owner take an expired lease', async () => {
    clock += TTL_MS + 1
    expect(await store.acquireLease('other', TTL_MS)).toEqual(acquired)
    expect(store.lease?.owner).toBe('other')
  })

  it("frees only the owner's own lease", async () => {
    await store.releaseLease('other')
    expect(await store.acquireLease('other', TTL_MS)).toMatchObject({ acquired: false })
    await store.releaseLease('me')
    expect(await store.acquireLease('other', TTL_MS)).toEqual(acquired)
  })

  it('renews a live lease of its owner by a whole TTL from now', async () => {
    clock += TTL_MS
    expect(await store.renewLease('me', TTL_MS)).toEqual(acquired)
    expect(store.lease).toEqual({ owner: 'me', expiresAt: clock + TTL_MS })
  })

  it('refuses to renew a lease that expired, was taken over, or was released', async () => {
    clock += TTL_MS + 1
    expect(await store.renewLease('me', TTL_MS)).toEqual({
      acquired: false,
      holder: 'me',
      expiresAt: new Date(clock - 1),
    })
    await store.acquireLease('other', TTL_MS)
    expect(await store.renewLease('me', TTL_MS)).toMatchObject({
      acquired: false,
      holder: 'other',
    })
    await store.releaseLease('other')
    expect(await store.renewLease('other', TTL_MS)).toEqual({
      acquired: false,
      holder: null,
      expiresAt: null,
    })
  })

  it('leaves a lease taken over after expiry to its new owner', async () => {
    clock += TTL_MS + 1
    await store.acquireLease('other', TTL_MS)
    await store.releaseLease('me')
    expect(store.lease?.owner).toBe('other')
  })
})

describe('FakeStore writes only under a live lease', () => {
  const checkpoints: Array<[string, (s: FakeStore) => Promise<void>]> = [
    ['saveListCheckpoint', (s) => s.saveListCheckpoint('100', {})],
    ['saveWatchCheckpoint', (s) => s.saveWatchCheckpoint('100', {})],
    ['markNeedsRelist', (s) => s.markNeedsRelist('410')],
    ['recordError', (s) => s.recordError('boom')],
  ]

  it.each(checkpoints)('refuses a checkpoint without a live lease (%s)', async (name, save) => {
    await store.releaseLease('me')
    await expect(save(store)).rejects.toThrow(`${name} without a live lease: nobody holds it`)
    expect(store.checkpoints).toEqual([])
    expect(store.state).toEqual({})
  })

  it.each(checkpoints)('refuses a checkpoint after the lease expired (%s)', async (name, save) => {
    clock += TTL_MS + 5
    await expect(save(store)).rejects.toThrow(`${name} without a live lease: me's expired 5 ms ago`)
    expect(store.checkpoints).toEqual([])
  })

  it('refuses a write without a live lease, and writes nothing', async () => {
    await store.releaseLease('me')
    await expect(store.write([insert('a', '1')])).rejects.toThrow('write without a live lease')
    expect(store.writes).toEqual([])
    expect(store.docs.size).toBe(0)
  })

  it('refuses the bookkeeping of a complete list without a live lease', async () => {
    await store.releaseLease('me')
    await expect(store.saveVersions(new Map())).rejects.toThrow('saveVersions without a live lease')
    await expect(store.pruneTombstones('1')).rejects.toThrow('pruneTombstones without a live lease')
    await expect(store.pruneDeadLetters(new Set())).rejects.toThrow(
      'pruneDeadLetters without a live lease',
    )
  })

  it('reads without the lease, as a dry run does', async () => {
    await store.releaseLease('me')
    store.docs = new Map([['a', '1']])
    expect([...(await store.loadVersions())]).toEqual([['a', '1']])
    expect(await store.getState()).toMatchObject({ resource: 'v1/configmaps' })
  })

  it('saves the checkpoints under a live lease, with the fields the real one sets', async () => {
    await store.markNeedsRelist('410 Gone on watch')
    await store.recordError('boom')
    await store.saveListCheckpoint('100', { listed: 1 })
    await store.saveWatchCheckpoint('120', { events: 2 })
    expect(store.checkpoints).toEqual(['list:100', 'watch:120'])
    expect(store.state).toMatchObject({
      listResourceVersion: '100',
      watchResourceVersion: '120',
      needsRelist: false,
      relistReason: null,
      lastError: null,
      lastListCounts: { listed: 1 },
      lastWatchCounts: { events: 2 },
    })
  })
})
