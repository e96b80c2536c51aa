import type { Collection, Db } from 'mongodb'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import { writeChunked, type WriteChunkedOptions } from '../../../../lib/store/writes/bulk-writer.js'
import { pruneTombstones, tombstonesOf } from '../../../../lib/store/bookkeeping/tombstones.js'
import type { WriteOp } from '../../../../lib/store/writes/write-op.js'
import type { InventoryDocument } from '../../../../lib/store/documents/mapper.js'
import { dropAndDisconnect, freshDb, isFerretDb, testConfig } from '../helpers.js'

let db: Db
let pods: Collection<InventoryDocument>
let n = 0
let ferret = false

beforeAll(async () => {
  ;({ db } = await freshDb())
  ferret = await isFerretDb(db)
})
afterAll(async () => {
  await dropAndDisconnect(db)
})
beforeEach(() => {
  // A collection of its own per test; tombstones are per uid, so uids are unique per test too.
  pods = db.collection<InventoryDocument>(`pods_${++n}`)
})

const uid = (name: string) => `${name}-${n}`
const pod = (name: string, rv: string, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', uid: uid(name), resourceVersion: rv },
  spec: { ...extra },
})

/**
 * Both guard modes run here: compare-and-swap filters (MongoDB's atomic
 * conditional writes) and read-then-write by `_id` (what FerretDB gets by
 * default), so the same behaviour is proven on either server.
 */
let atomicConditionalWrites = true

const options = (overrides: Partial<WriteChunkedOptions> = {}): WriteChunkedOptions => ({
  resource: 'v1/pods',
  atomicConditionalWrites,
  mapping: {
    cluster: 'c',
    apiVersion: 'v1',
    kind: 'Pod',
    secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
  },
  config: testConfig({ BULK_WRITE_BATCH_SIZE: '10' }),
  ...overrides,
})

const write = (ops: WriteOp[], overrides?: Partial<WriteChunkedOptions>) =>
  writeChunked(pods, ops, options(overrides))
const storedRv = async (name: string) =>
  (await pods.findOne({ _id: `c/${uid(name)}` }))?.resourceVersion

describe.each([
  ['compare-and-swap filters', true],
  ['read, then write by _id', false],
])('write protocol against the real store (%s)', (_mode, atomic) => {
  beforeEach(() => {
    atomicConditionalWrites = atomic
  })

  it('does not overwrite a newer stored version', async () => {
    await write([{ type: 'insert', object: pod('a', '10') }])
    const result = await write([
      { type: 'replace', object: pod('a', '7'), expectedResourceVersion: '5' },
      { type: 'upsert', object: pod('a', '8') },
    ])
    expect(result).toMatchObject({ updated: 0, skippedByGuard: 2 })
    expect(await storedRv('a')).toBe('10')
  })

  it('replaces a stored version that is older, even when the caller expected another one', async () => {
    await write([{ type: 'insert', object: pod('a', '10') }])
    const result = await write([
      { type: 'replace', object: pod('a', '12'), expectedResourceVersion: '5' },
    ])
    expect(result).toMatchObject({ updated: 1, skippedByGuard: 0 })
    expect(await storedRv('a')).toBe('12')
  })

  it('compares versions as integers: 10 is newer than 9', async () => {
    await write([{ type: 'insert', object: pod('a', '9') }])
    await write([{ type: 'upsert', object: pod('a', '10') }])
    expect(await storedRv('a')).toBe('10')
  })

  it('settles an insert that finds the uid already stored by its version', async () => {
    await write([
      { type: 'insert', object: pod('newer', '5') },
      { type: 'insert', object: pod('older', '5') },
    ])
    const result = await write([
      { type: 'insert', object: pod('newer', '7') },
      { type: 'insert', object: pod('older', '3') },
    ])
    expect(result).toMatchObject({ inserted: 0, updated: 1, skippedByGuard: 1 })
    expect(await storedRv('newer')).toBe('7')
    expect(await storedRv('older')).toBe('5')
  })

  it('does not resurrect a deleted uid from a stale list page or a stale event', async () => {
    await write([{ type: 'insert', object: pod('gone', '5') }])
    const deleted = await write([
      {
        type: 'delete',
        uid: uid('gone'),
        expectedResourceVersion: '5',
        deletedAtResourceVersion: '9',
      },
    ])
    expect(deleted.deleted).toBe(1)
    const stale = await write([{ type: 'insert', object: pod('gone', '5') }])
    const staleEvent = await write([{ type: 'upsert', object: pod('gone', '6') }])
    expect(stale).toMatchObject({ inserted: 0, skippedByGuard: 1 })
    expect(staleEvent).toMatchObject({ inserted: 0, skippedByGuard: 1 })
    expect(await pods.countDocuments({})).toBe(0)
    expect(await tombstonesOf(db).findOne({ _id: `c/${uid('gone')}` })).toMatchObject({
      resourceVersion: '9',
    })
  })

  it('deletes a document changed since the caller looked, when it is not newer than the deletion', async () => {
    await write([{ type: 'insert', object: pod('changed', '6') }])
    const result = await write([
      {
        type: 'delete',
        uid: uid('changed'),
        expectedResourceVersion: '5',
        deletedAtResourceVersion: '9',
      },
    ])
    expect(result.deleted).toBe(1)
    expect(await pods.countDocuments({})).toBe(0)
  })

  it('is idempotent: the same operations twice leave the same documents and write nothing new', async () => {
    const ops: WriteOp[] = Array.from({ length: 25 }, (_, i) => ({
      type: 'upsert',
      object: pod(`p${i}`, '3'),
    }))
    const first = await write(ops)
    const again = await write(ops)
    expect(first).toMatchObject({ inserted: 25, chunks: 3 })
    expect(again).toMatchObject({ inserted: 0, updated: 0, skippedByGuard: 25 })
    expect(await pods.countDocuments({})).toBe(25)
  })

  // A compare-and-swap needs an atomic conditional update. FerretDB 1.x (SQLite)
  // matches and writes outside one transaction (FerretDB#3040), so concurrent
  // writers of one uid can regress it there; in this project they never meet,
  // because a resource has one lease holder and coalesceOps sends one op per uid.
  it('keeps the newest version when 20 writers race on one uid (needs atomic updates)', async (ctx) => {
    if (ferret || !atomic) {
      ctx.skip(
        'needs atomic conditional writes: FerretDB 1.x has none (FerretDB#3040); runs against real MongoDB',
      )
    }
    const versions = Array.from({ length: 20 }, (_, i) => String(100 + i))
    await Promise.all(
      [...versions]
        .reverse()
        .map((rv) => write([{ type: 'upsert', object: pod('raced', rv, { rv }) }])),
    )
    const stored = await pods.findOne({ _id: `c/${uid('raced')}` })
    expect(stored?.resourceVersion).toBe('119')
    expect(stored?.object.spec).toEqual({ rv: '119' })
  })

  it('sends one unchunked bulk write when ENABLE_CHUNKED_BULK_WRITE=false', async () => {
    const ops: WriteOp[] = Array.from({ length: 35 }, (_, i) => ({
      type: 'insert',
      object: pod(`u${i}`, '1'),
    }))
    const result = await write(ops, { config: testConfig({ ENABLE_CHUNKED_BULK_WRITE: 'false' }) })
    expect(result).toMatchObject({ inserted: 35, chunks: 1 })
  })

  it('prunes tombstones at or below a complete list version, comparing as integers', async () => {
    const resource = `v1/prune-${n}`
    await writeChunked(
      pods,
      ['5', '9', '15', '100'].map((rv, i) => ({
        type: 'delete',
        uid: uid(`t${i}`),
        deletedAtResourceVersion: rv,
      })),
      options({ resource }),
    )
    expect(await pruneTombstones(db, 'c', resource, { resourceVersion: '10' })).toBe(2)
    const left = await tombstonesOf(db).find({ resource }).toArray()
    expect(left.map((t) => t.resourceVersion).sort()).toEqual(['100', '15'])
  })
})
