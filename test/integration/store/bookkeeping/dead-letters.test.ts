import { MongoClient, type Collection, type Db } from 'mongodb'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import { writeChunked, type WriteChunkedOptions } from '../../../../lib/store/writes/bulk-writer.js'
import { ChunkedWriteError } from '../../../../lib/store/writes/chunked-write-error.js'
import {
  DEAD_LETTERED_VERSION,
  DeadLetterTracker,
} from '../../../../lib/store/bookkeeping/dead-letter-tracker.js'
import {
  deadLetterFields,
  deadLettersOf,
  recordFailures,
  type DeadLetter,
} from '../../../../lib/store/bookkeeping/dead-letters.js'
import type { WriteOp } from '../../../../lib/store/writes/write-op.js'
import type { InventoryDocument } from '../../../../lib/store/documents/mapper.js'
import { ToxiproxyClient } from '../../../stack/toxiproxy.js'
import { captureOutput, dropAndDisconnect, freshDb, testConfig } from '../helpers.js'

/*
 * The write protocol meets a document the server refuses: a unique index on
 * `name` (as a user might add one) makes two objects of one name collide. On
 * FerretDB `insert` answers 11000 per document while `update` stops at its
 * first failing statement with InternalError; on MongoDB both answer 11000
 * per statement. Both guard modes run, as in writes/protocol.test.ts.
 */

let db: Db
let inventory: Collection<InventoryDocument>
let deadLetters: Collection<DeadLetter>
let n = 0

beforeAll(async () => {
  ;({ db } = await freshDb())
  deadLetters = deadLettersOf(db)
})
afterAll(async () => {
  await dropAndDisconnect(db)
})
beforeEach(async () => {
  inventory = db.collection<InventoryDocument>(`configmaps_${++n}`)
  await inventory.createIndex({ name: 1 }, { unique: true, name: 'unique_name' })
})

const resource = () => `v1/configmaps-${n}`
const uid = (id: string) => `${id}-${n}`
const cm = (id: string, name: string, rv: string, namespace = 'default'): KubeObject => ({
  metadata: { name, namespace, uid: uid(id), resourceVersion: rv },
  data: { id },
})

function writer(atomicConditionalWrites: boolean, lettersDb = db) {
  const tracker = new DeadLetterTracker(lettersDb, 'c', resource())
  const options = (source: 'reconcile' | 'watch'): WriteChunkedOptions => ({
    resource: resource(),
    atomicConditionalWrites,
    mapping: {
      cluster: 'c',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    },
    config: testConfig({ BULK_WRITE_BATCH_SIZE: '10' }),
    deadLetters: tracker.forSource(source),
  })
  return (ops: WriteOp[], source: 'reconcile' | 'watch' = 'reconcile') =>
    writeChunked(inventory, ops, options(source))
}

const stored = async () =>
  Object.fromEntries(
    (await inventory.find({}).toArray()).map((d) => [d.uid, `${d.name}@${d.resourceVersion}`]),
  )
const letters = () => deadLetters.find({ resource: resource() }).sort({ uid: 1 }).toArray()

describe.each([
  ['compare-and-swap filters', true],
  ['read, then write by _id', false],
])('dead letters against the real store (%s)', (_mode, atomic) => {
  it('dead-letters a refused insert and writes the rest of its chunk', async () => {
    const write = writer(atomic)
    const result = await write([
      { type: 'insert', object: cm('a', 'same', '10') },
      { type: 'insert', object: cm('b', 'same', '11', 'other') },
      { type: 'insert', object: cm('c', 'c', '12') },
      { type: 'insert', object: cm('d', 'd', '13') },
    ])
    expect(result).toMatchObject({ inserted: 3, deadLettered: 1 })
    expect(await stored()).toEqual({
      [uid('a')]: 'same@10',
      [uid('c')]: 'c@12',
      [uid('d')]: 'd@13',
    })
    const [letter, ...more] = await letters()
    expect(more).toEqual([])
    expect(letter).toMatchObject({
      _id: `c/${resource()}/${uid('b')}`,
      cluster: 'c',
      uid: uid('b'),
      namespace: 'other',
      name: 'same',
      resourceVersion: '11',
      operation: 'insert',
      kind: 'duplicate-key',
      code: 11000,
      attempts: 1,
      source: 'reconcile',
    })
    expect(letter!.reason).toMatch(/E11000 duplicate key/)
    expect(letter!.firstFailedAt).toEqual(letter!.lastFailedAt)
  })

  it('dead-letters a refused replace and still writes the replaces around it', async () => {
    const write = writer(atomic)
    await write(['a', 'b', 'c', 'd'].map((id) => ({ type: 'insert', object: cm(id, id, '10') })))
    const result = await write([
      { type: 'replace', object: cm('a', 'a2', '20'), expectedResourceVersion: '10' },
      { type: 'replace', object: cm('b', 'c', '21'), expectedResourceVersion: '10' },
      { type: 'replace', object: cm('c', 'c2', '22'), expectedResourceVersion: '10' },
      { type: 'upsert', object: cm('d', 'c2', '23') },
    ])
    expect(result).toMatchObject({ updated: 2, deadLettered: 2 })
    expect(await stored()).toEqual({
      [uid('a')]: 'a2@20',
      [uid('b')]: 'b@10',
      [uid('c')]: 'c2@22',
      [uid('d')]: 'd@10',
    })
    expect(
      (await letters()).map((l) => [l.uid, l.operation, l.resourceVersion, l.kind, l.attempts]),
    ).toEqual([
      [uid('b'), 'replace', '21', 'duplicate-key', 1],
      [uid('d'), 'upsert', '23', 'duplicate-key', 1],
    ])
  })

  it('counts every further failure, and clears the dead letter once the write lands', async () => {
    const write = writer(atomic)
    await write([{ type: 'insert', object: cm('a', 'same', '10') }])
    await write([{ type: 'insert', object: cm('b', 'same', '11') }])
    const again = await write([{ type: 'insert', object: cm('b', 'same', '12') }], 'watch')
    expect(again).toMatchObject({ inserted: 0, deadLettered: 1 })
    const [letter] = await letters()
    expect(letter).toMatchObject({ attempts: 2, resourceVersion: '12', source: 'watch' })
    expect(letter!.lastFailedAt.getTime()).toBeGreaterThan(letter!.firstFailedAt.getTime())

    const logs = captureOutput()
    try {
      const landed = await write([{ type: 'upsert', object: cm('b', 'other-name', '13') }], 'watch')
      expect(landed).toMatchObject({ inserted: 1, deadLettered: 0 })
    } finally {
      logs.restore()
    }
    expect(await letters()).toEqual([])
    expect(logs.events().filter((e) => e.event === 'deadletter.cleared')).toEqual([
      expect.objectContaining({
        resource: resource(),
        uid: uid('b'),
        reason: 'written',
        source: 'watch',
      }),
    ])
  })

  it('rewrites a dead-lettered uid the version index holds, and clears it when the write had landed after all', async () => {
    const write = writer(atomic)
    await write([{ type: 'insert', object: cm('a', 'a', '10') }])
    // As if the chunk had given up on a write the server did apply: a dead letter for a stored version.
    await recordFailures(deadLetters, [
      deadLetterFields(
        { type: 'insert', object: cm('a', 'a', '10') },
        { kind: 'failed', code: null, reason: 'MongoNetworkError: connection reset' },
        { cluster: 'c', resource: resource(), source: 'reconcile' },
        new Date(),
      ),
    ])
    const index = new Map([[uid('a'), '10']])
    const tracker = new DeadLetterTracker(db, 'c', resource())
    await tracker.markForRetry(index)
    expect(index.get(uid('a'))).toBe(DEAD_LETTERED_VERSION)

    const rewrite = writer(atomic)
    const result = await rewrite([
      {
        type: 'replace',
        object: cm('a', 'a', '10'),
        expectedResourceVersion: index.get(uid('a'))!,
      },
    ])
    expect(result.deadLettered).toBe(0)
    expect(await stored()).toEqual({ [uid('a')]: 'a@10' })
    expect(await letters()).toEqual([])
  })

  it('clears the dead letter of an object deleted from the cluster', async () => {
    const write = writer(atomic)
    await write([{ type: 'insert', object: cm('a', 'same', '10') }])
    await write([{ type: 'insert', object: cm('b', 'same', '11') }], 'watch')
    expect(await letters()).toHaveLength(1)
    const gone = await write([{ type: 'delete', uid: uid('b'), deletedAtResourceVersion: '15' }])
    expect(gone.deadLettered).toBe(0)
    expect(await letters()).toEqual([])
  })
})

describe('documents that cannot be sent', () => {
  it('dead-letters a document over 16 MB before sending it, and writes the rest', async () => {
    const write = writer(false)
    const huge = { ...cm('big', 'big', '10'), data: { blob: 'x'.repeat(17 * 1024 * 1024) } }
    const logs = captureOutput()
    let result
    try {
      result = await write([
        { type: 'insert', object: huge },
        { type: 'insert', object: cm('small', 'small', '11') },
      ])
    } finally {
      logs.restore()
    }
    expect(result).toMatchObject({ inserted: 1, deadLettered: 1 })
    expect(Object.keys(await stored())).toEqual([uid('small')])
    expect(await letters()).toEqual([
      expect.objectContaining({ uid: uid('big'), kind: 'too-large', code: null }),
    ])
    expect(logs.events().filter((e) => e.event === 'deadletter.recorded')).toEqual([
      expect.objectContaining({ uid: uid('big'), kind: 'too-large', attempts: 1 }),
    ])
  })
})

describe('a chunk that fails after every retry', () => {
  const toxiproxy = new ToxiproxyClient()
  let proxied: MongoClient | undefined
  afterEach(async () => {
    await toxiproxy.setEnabled('mongo', true)
    await proxied?.close()
  })

  /** The inventory collection behind the toxiproxy link, which is then cut. */
  async function inventoryBehindDeadLink(): Promise<Collection<InventoryDocument>> {
    const uri = process.env.MONGODB_URI_TOXIPROXY
    if (!uri) throw new Error('MONGODB_URI_TOXIPROXY missing from the stack environment')
    proxied = await new MongoClient(uri, { serverSelectionTimeoutMS: 800 }).connect()
    const behind = proxied
      .db(db.databaseName)
      .collection<InventoryDocument>(inventory.collectionName)
    await toxiproxy.setEnabled('mongo', false)
    return behind
  }
  const failingWrite = (behind: Collection<InventoryDocument>, lettersDb: Db, ops: WriteOp[]) =>
    writeChunked(behind, ops, {
      resource: resource(),
      db,
      atomicConditionalWrites: false,
      mapping: {
        cluster: 'c',
        apiVersion: 'v1',
        kind: 'ConfigMap',
        secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
      },
      config: testConfig({ BULK_WRITE_BATCH_SIZE: '10' }),
      retryPolicy: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50, backoffMultiplier: 2 },
      deadLetters: new DeadLetterTracker(lettersDb, 'c', resource()).forSource('watch'),
    })
  const ops = (): WriteOp[] => [
    { type: 'insert', object: cm('a', 'a', '10') },
    { type: 'upsert', object: cm('b', 'b', '11') },
  ]

  it('still fails, and records each operation it could not write as a dead letter', async () => {
    const behind = await inventoryBehindDeadLink()
    const logs = captureOutput()
    let error: unknown
    try {
      await failingWrite(behind, db, ops())
    } catch (caught) {
      error = caught
    } finally {
      logs.restore()
    }
    expect(error).toBeInstanceOf(ChunkedWriteError)
    expect((error as ChunkedWriteError).counts.deadLettered).toBe(2)
    expect(await inventory.countDocuments()).toBe(0)
    const recorded = await letters()
    expect(recorded.map((l) => [l.uid, l.operation, l.kind, l.source, l.attempts])).toEqual([
      [uid('a'), 'insert', 'failed', 'watch', 1],
      [uid('b'), 'upsert', 'failed', 'watch', 1],
    ])
    expect(recorded[0]!.reason).toMatch(/failed after 2 attempts/)
  })

  it('logs each operation as deadletter.unrecorded when MongoDB cannot take the dead letters either', async () => {
    const behind = await inventoryBehindDeadLink()
    const logs = captureOutput()
    try {
      await expect(failingWrite(behind, behind.db, ops())).rejects.toThrow(ChunkedWriteError)
    } finally {
      logs.restore()
    }
    expect(await letters()).toEqual([])
    const unrecorded = logs.events().filter((e) => e.event === 'deadletter.unrecorded')
    expect(unrecorded.map((e) => [e.resource, e.uid, e.operation])).toEqual([
      [resource(), uid('a'), 'insert'],
      [resource(), uid('b'), 'upsert'],
    ])
    for (const e of unrecorded) expect(e.reason).toMatch(/failed after 2 attempts/)
  })
})
