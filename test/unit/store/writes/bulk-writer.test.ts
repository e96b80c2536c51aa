import type { Collection, Db } from 'mongodb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../../../lib/config.js'
import { logger } from '../../../../lib/log.js'
import type { RetryPolicy } from '../../../../lib/retry.js'
import type { InventoryDocument } from '../../../../lib/store/documents/mapper.js'
import { writeChunked } from '../../../../lib/store/writes/bulk-writer.js'
import { ChunkedWriteError } from '../../../../lib/store/writes/chunked-write-error.js'
import type { WriteOp } from '../../../../lib/store/writes/write-op.js'

/*
 * The chunk retry path against a collection that fails on cue: what matters
 * here is what the writer logs and counts, not the write protocol (which the
 * integration tests run against a real server).
 */

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
const quickRetry: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1,
  maxDelayMs: 2,
  backoffMultiplier: 2,
}
const config = loadConfig({ BULK_WRITE_BATCH_SIZE: '2', ENABLE_CIRCUIT_BREAKER: 'false' })

/** A MongoDB server behind one inventory collection, with no tombstones; `insertMany` is the test's. */
function fakeCollection(insertMany: (docs: InventoryDocument[]) => Promise<unknown>) {
  const empty = { find: () => ({ toArray: () => Promise.resolve([]) }) }
  const db = {
    command: () => Promise.resolve({ version: '7.0.0' }),
    collection: () => empty,
  }
  return { db, insertMany } as unknown as Collection<InventoryDocument> & { db: Db }
}

const inserts = (...uids: string[]): WriteOp[] =>
  uids.map((uid) => ({
    type: 'insert',
    object: { metadata: { uid, name: uid, namespace: 'ns', resourceVersion: '1' } },
  }))

const write = (collection: Collection<InventoryDocument>, ops: WriteOp[]) =>
  writeChunked(collection, ops, {
    resource: 'v1/configmaps',
    mapping: {
      cluster: 'c',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    },
    config,
    retryPolicy: quickRetry,
    atomicConditionalWrites: true,
  })

/** Every log line as [level, event, fields], in order. */
function captureEvents() {
  const lines: Array<[string, unknown, Record<string, unknown>]> = []
  for (const level of ['info', 'warn', 'error'] as const)
    vi.spyOn(logger, level).mockImplementation((message: unknown, ...rest: unknown[]) => {
      const fields = (rest[0] ?? {}) as Record<string, unknown>
      lines.push([level, fields.event, { message, ...fields }])
    })
  return lines
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('writeChunked, a chunk retried after a transient error', () => {
  it('logs the retry once: the failure when it happens, the retry when it starts, then its success', async () => {
    // Prepare: the second chunk's first attempt fails with a connection reset.
    const insertMany = vi
      .fn()
      .mockResolvedValueOnce({})
      .mockRejectedValueOnce(reset())
      .mockResolvedValue({})
    const lines = captureEvents()

    // Act
    const result = await write(fakeCollection(insertMany), inserts('a', 'b', 'c', 'd'))

    // Assess: the chunk was written on its second attempt, and counted as retried.
    expect(result).toMatchObject({ inserted: 4, retriedChunks: 1, failedChunks: 0, chunks: 2 })
    const events = lines.map(([, event]) => event)
    expect(events.filter((e) => e === 'retry' || e === 'retry.succeeded')).toEqual([])
    const chunkTwo = lines
      .filter(([, , f]) => f.chunk === 2)
      .map(([level, event]) => [level, event])
    expect(chunkTwo).toEqual([
      ['warn', 'chunk.failed'],
      ['info', 'chunk.retrying'],
      ['info', 'chunk.retry-succeeded'],
      ['info', 'chunk.processed'],
    ])
    const [, , failed] = lines.find(([, event]) => event === 'chunk.failed')!
    expect(failed).toMatchObject({
      message: 'Failed to write chunk 2/2 for v1/configmaps: read ECONNRESET',
      resource: 'v1/configmaps',
      chunk: 2,
      chunks: 2,
      chunkSize: 2,
      processed: 2,
      total: 4,
      attempt: 1,
      delayMs: expect.any(Number),
      error: expect.objectContaining({ message: 'read ECONNRESET' }),
    })
    const [, , retrying] = lines.find(([, event]) => event === 'chunk.retrying')!
    expect(retrying).toMatchObject({
      message: 'Retrying chunk 2 after error...',
      attempt: 2,
      delayMs: failed.delayMs,
    })
    expect(lines.find(([, event]) => event === 'chunk.retry-succeeded')![2].message).toBe(
      'Chunk 2 retry succeeded',
    )
    expect(lines.filter(([, event]) => event === 'chunk.processed').at(-1)![2].message).toBe(
      'Chunk 2/2 processed (4/4 operations)',
    )
  })

  it('logs one final failure line, and no generic give-up line, when the retries are used up', async () => {
    const insertMany = vi.fn().mockRejectedValue(reset())
    const lines = captureEvents()

    const writing = write(fakeCollection(insertMany), inserts('a', 'b'))

    await expect(writing).rejects.toBeInstanceOf(ChunkedWriteError)
    expect(insertMany).toHaveBeenCalledTimes(quickRetry.maxAttempts)
    const events = lines.map(([level, event]) => [level, event])
    expect(events.filter(([, e]) => String(e).startsWith('retry'))).toEqual([])
    expect(events.filter(([, e]) => e === 'chunk.failed')).toEqual([
      ['warn', 'chunk.failed'],
      ['warn', 'chunk.failed'],
      ['error', 'chunk.failed'],
    ])
    expect(events.filter(([, e]) => e === 'chunk.retrying')).toHaveLength(2)
    expect(lines.at(-1)![2]).toMatchObject({ event: 'chunk.failed', final: true, chunk: 1 })
  })
})
