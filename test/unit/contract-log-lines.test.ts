import type { Collection, Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AppConfig } from '../../lib/app-config.js'
import { loadConfig } from '../../lib/config.js'
import { watchWindow } from '../../lib/kube/watcher.js'
import type { RetryPolicy } from '../../lib/retry.js'
import type { InventoryDocument } from '../../lib/store/documents/mapper.js'
import { writeChunked } from '../../lib/store/writes/bulk-writer.js'
import type { WriteOp } from '../../lib/store/writes/write-op.js'
import { FakeWatchServer } from './kube/fakes/fake-watch-server.js'
import { resolvedOf } from './kube/fakes/resources.js'

/*
 * Every log line of the fault-tolerance contract's "Monitoring & Debugging"
 * (docs/resilience.md#the-fault-tolerance-contract, docs/operations.md#log-events),
 * as the JSON line our logger prints: the contract's wording in `message`
 * without its emoji, "Pod informer" read as "Pod watch", and an `event`.
 * Each scenario drives the real code path once, under the fake clock; each
 * row then looks for its line in what was printed.
 */

const policy: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  backoffMultiplier: 2,
}

interface ContractLine {
  /** The line as the contract prints it. */
  readonly spec: string
  readonly event: string
  readonly message: string
  /** Fields the contract prints on the lines below it. */
  readonly fields?: Record<string, unknown>
}

const contractLines: ContractLine[] = [
  {
    spec: '⚙️  Application Configuration:',
    event: 'configuration',
    message: 'Application Configuration',
    fields: {
      retry: { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000 },
      timeouts: { mongodbConnectMs: 30_000, k8sRequestMs: 30_000, k8sWatchMs: 60_000 },
      bulkWrite: { batchSize: 100, maxConcurrent: 3 },
      features: { k8sWatchReconnect: true, mongoReconnect: true, chunkedBulkWrite: true },
    },
  },
  {
    spec: '❌ Error in Pod informer: socket hang up',
    event: 'watch.error',
    message: 'Error in Pod watch: socket hang up',
  },
  {
    spec: '🔄 Pod informer: Reconnecting in 1000ms (attempt 1/5)...',
    event: 'watch.reconnecting',
    message: 'Pod watch: Reconnecting in 1000ms (attempt 1/5)...',
    fields: { delayMs: 1000, attempt: 1, maxAttempts: 5 },
  },
  {
    spec: '🔄 Pod informer: Reconnecting...',
    event: 'watch.reconnect-started',
    message: 'Pod watch: Reconnecting...',
  },
  {
    spec: '✅ Pod informer: Reconnected successfully',
    event: 'watch.reconnected',
    message: 'Pod watch: Reconnected successfully',
  },
  {
    spec: '📦 Using chunked bulk writes (batch size: 100)',
    event: 'bulk.chunked',
    message: 'Using chunked bulk writes (batch size: 100)',
  },
  {
    spec: '✅ Chunk 1/10 processed (100/1000 operations)',
    event: 'chunk.processed',
    message: 'Chunk 1/10 processed (100/1000 operations)',
  },
  {
    spec: '✅ Chunk 2/10 processed (200/1000 operations)',
    event: 'chunk.processed',
    message: 'Chunk 2/10 processed (200/1000 operations)',
  },
  {
    spec: '❌ Failed to write chunk 3/10 for Secret: / Error: write EPIPE / Chunk size: 100, Processed: 200/1000',
    event: 'chunk.failed',
    message: 'Failed to write chunk 3/10 for v1/secrets: write EPIPE',
    fields: { chunkSize: 100, processed: 200, total: 1000, error: { message: 'write EPIPE' } },
  },
  {
    spec: '🔄 Retrying chunk 3 after error...',
    event: 'chunk.retrying',
    message: 'Retrying chunk 3 after error...',
  },
  {
    spec: '✅ Chunk 3 retry succeeded',
    event: 'chunk.retry-succeeded',
    message: 'Chunk 3 retry succeeded',
  },
]

/** Every JSON line printed while `run` runs. */
async function printedLines(run: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const chunks: string[] = []
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk))
    return true
  }
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture)
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture)
  try {
    await run()
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
  return chunks
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** A Pod watch whose stream is cut once, then reconnects. */
async function watchCutOnce(): Promise<void> {
  const server = new FakeWatchServer()
  server.plan({ then: 'cut', afterMs: 2_000 })
  const window = watchWindow(server.watch, {
    resolved: resolvedOf('v1/pods', 'Pod'),
    fromResourceVersion: '1000',
    windowEndsAt: Date.now() + 10_000,
    reconnect: true,
    policy,
    watchTimeoutMs: 60_000,
    random: () => 0.5, // no jitter: the first backoff is exactly 1000 ms
  })
  const done = (async () => {
    for await (const _event of window);
  })()
  await vi.runAllTimersAsync()
  await done
}

/** 1,000 Secrets written in chunks of 100, one at a time; chunk 3's first attempt hits EPIPE. */
async function writeSecretsWithOneBrokenPipe(): Promise<void> {
  let failed = false
  const insertMany = (docs: InventoryDocument[]) => {
    if (!failed && docs[0]?._id.endsWith('s200')) {
      failed = true
      return Promise.reject(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    }
    return Promise.resolve({})
  }
  const empty = { find: () => ({ toArray: () => Promise.resolve([]) }) }
  const db = { command: () => Promise.resolve({ version: '7.0.0' }), collection: () => empty }
  const collection = { db, insertMany } as unknown as Collection<InventoryDocument> & { db: Db }
  const ops: WriteOp[] = Array.from({ length: 1000 }, (_, i) => ({
    type: 'insert',
    object: { metadata: { uid: `s${i}`, name: `s${i}`, namespace: 'ns', resourceVersion: '1' } },
  }))
  const writing = writeChunked(collection, ops, {
    resource: 'v1/secrets',
    mapping: {
      cluster: 'c',
      apiVersion: 'v1',
      kind: 'Secret',
      secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
    },
    config: loadConfig({ BULK_WRITE_MAX_CONCURRENT: '1', ENABLE_CIRCUIT_BREAKER: 'false' }),
    atomicConditionalWrites: true,
  })
  await vi.runAllTimersAsync()
  await writing
}

describe('the fault-tolerance contract log lines, as JSON', () => {
  let lines: Array<Record<string, unknown>> = []

  beforeAll(async () => {
    vi.useFakeTimers()
    lines = [
      ...(await printedLines(() => Promise.resolve(AppConfig.logConfig()))),
      ...(await printedLines(watchCutOnce)),
      ...(await printedLines(writeSecretsWithOneBrokenPipe)),
    ]
  })
  afterAll(() => {
    vi.useRealTimers()
  })

  for (const line of contractLines) {
    it(`prints "${line.spec}"`, () => {
      const printed = lines.filter((l) => l.message === line.message)
      expect(printed, `no line with message "${line.message}"`).toHaveLength(1)
      expect(printed[0]).toMatchObject({ event: line.event, ...line.fields })
    })
  }
})
