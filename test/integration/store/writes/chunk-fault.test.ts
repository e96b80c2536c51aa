import type { Db } from 'mongodb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import type { RetryPolicy } from '../../../../lib/retry.js'
import { writeChunked } from '../../../../lib/store/writes/bulk-writer.js'
import { MongoConnection } from '../../../../lib/store/connection/client.js'
import type { WriteOp } from '../../../../lib/store/writes/write-op.js'
import type { InventoryDocument } from '../../../../lib/store/documents/mapper.js'
import { mongoUriThroughToxiproxy, ToxiproxyClient } from '../../../stack/toxiproxy.js'
import { captureOutput, testConfig } from '../helpers.js'

const toxiproxy = new ToxiproxyClient()
const PROXY = 'mongo'
const TOXIC = 'store-reset-mid-write'

const patientRetry: RetryPolicy = {
  maxAttempts: 30,
  initialDelayMs: 100,
  maxDelayMs: 1000,
  backoffMultiplier: 2,
}

const object = (uid: string, rv: string): KubeObject => ({
  metadata: {
    name: uid,
    namespace: `ns-${uid.length % 5}`,
    uid,
    resourceVersion: rv,
    labels: { 'app.kubernetes.io/name': uid },
  },
  data: { 'key.with.dots': rv },
})
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)

let db: Db | undefined
let mongo: MongoConnection | undefined
let output: ReturnType<typeof captureOutput> | undefined
afterEach(async () => {
  output?.restore()
  await toxiproxy.removeToxic(PROXY, TOXIC).catch(() => undefined)
  await db?.dropDatabase().catch(() => undefined)
  await mongo?.disconnectDB()
})

describe('chunked bulk write through a failing network', () => {
  it('retries the chunks a connection reset broke and ends with exactly the right documents', async () => {
    const uri = mongoUriThroughToxiproxy()
    const config = testConfig({
      BULK_WRITE_BATCH_SIZE: '100',
      BULK_WRITE_MAX_CONCURRENT: '3',
      BULK_WRITE_BATCH_DELAY_MS: '5',
      MONGODB_SOCKET_TIMEOUT_MS: '5000',
    })
    mongo = new MongoConnection(config)
    const connected = await mongo.connectDB({ uri, retryPolicy: patientRetry })
    db = connected
    const pods = connected.collection<InventoryDocument>('pods')
    const mapping = {
      cluster: 'tx',
      apiVersion: 'v1',
      kind: 'Pod',
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    }

    // Prepare: 1,000 stored objects at RV 10.
    await writeChunked(
      pods,
      range('e', 0, 1000).map((uid) => ({ type: 'insert', object: object(uid, '10') })),
      { resource: 'v1/pods', mapping, config, retryPolicy: patientRetry },
    )

    // 10,000 operations of every kind, shuffled deterministically so every chunk mixes them.
    // Mostly inserts: FerretDB 1.x runs each guarded write statement as its own
    // transaction (~0.1 s), so a replace-heavy 10k write would take minutes there.
    const ops: WriteOp[] = [
      ...range('n', 0, 9000).map((uid): WriteOp => ({ type: 'insert', object: object(uid, '1') })),
      ...range('e', 0, 300).map((uid): WriteOp => ({
        type: 'replace',
        object: object(uid, '20'),
        expectedResourceVersion: '10',
      })),
      ...range('e', 300, 550).map((uid): WriteOp => ({
        type: 'upsert',
        object: object(uid, '20'),
      })),
      ...range('n', 9000, 9250).map((uid): WriteOp => ({
        type: 'upsert',
        object: object(uid, '1'),
      })),
      ...range('e', 800, 1000).map((uid): WriteOp => ({
        type: 'delete',
        uid,
        expectedResourceVersion: '10',
        deletedAtResourceVersion: '30',
      })),
    ]
    const shuffled = ops
      .map((op, i) => ({ op, key: (i * 7919) % ops.length }))
      .sort((a, b) => a.key - b.key)
    expect(shuffled).toHaveLength(10_000)

    output = captureOutput()
    const capture = output
    const count = (event: string) => capture.events().filter((e) => e.event === event).length
    const writing = writeChunked(
      pods,
      shuffled.map((s) => s.op),
      { resource: 'v1/pods', mapping, config, retryPolicy: patientRetry },
    )
    // Act: once 20 of the 100 chunks are done, reset every connection until a chunk has retried.
    await vi.waitFor(() => expect(count('chunk.processed')).toBeGreaterThanOrEqual(20), {
      timeout: 60_000,
      interval: 5,
    })
    await toxiproxy.addToxic(PROXY, { name: TOXIC, type: 'reset_peer', attributes: { timeout: 0 } })
    const processedAtFault = count('chunk.processed')
    await vi.waitFor(() => expect(count('chunk.retrying')).toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 20,
    })
    await toxiproxy.removeToxic(PROXY, TOXIC)
    const result = await writing

    // Assess: exactly the right documents, each at the right version.
    const stored = new Map(
      (await pods.find({}, { projection: { _id: 1, resourceVersion: 1 } }).toArray()).map((d) => [
        d._id,
        d.resourceVersion,
      ]),
    )
    const expected = new Map<string, string>([
      ...range('e', 0, 550).map((uid): [string, string] => [`tx/${uid}`, '20']),
      ...range('e', 550, 800).map((uid): [string, string] => [`tx/${uid}`, '10']),
      ...range('n', 0, 9250).map((uid): [string, string] => [`tx/${uid}`, '1']),
    ])
    expect(stored.size).toBe(10_050)
    expect(stored).toEqual(expected)
    expect(result.chunks).toBe(100)
    expect(result.completedChunks).toBe(100)
    expect(result.retriedChunks).toBeGreaterThan(0)
    expect(result.inserted + result.updated + result.deleted + result.skippedByGuard).toBe(10_000)
    expect(processedAtFault).toBeLessThan(100)

    // The retries are in the logs, as docs/resilience.md#the-fault-tolerance-contract lists them.
    expect(count('bulk.chunked')).toBe(1)
    expect(count('chunk.failed')).toBeGreaterThan(0)
    expect(count('chunk.retry-succeeded')).toBe(result.retriedChunks)
    const failed = capture.events().find((e) => e.event === 'chunk.failed')
    expect(failed).toMatchObject({ resource: 'v1/pods', chunks: 100, total: 10_000 })
    expect(failed).toHaveProperty('chunkSize')
    expect(failed).toHaveProperty('processed')
    expect(
      capture
        .events()
        .filter((e) => e.event === 'chunk.processed')
        .at(-1),
    ).toMatchObject({
      chunk: expect.any(Number),
      chunks: 100,
      processed: 10_000,
      total: 10_000,
    })
  }, 300_000)
})
