import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs'
import { beforeEach, describe, expect, it } from 'vitest'
import { drainQueues } from '../../../scripts/drain/drain-queues.js'
import type { DrainQueue } from '../../../scripts/drain/types.js'
import { ensureWorkQueues, queueDepth, type WorkQueue } from '../../stack/queues.js'
import { repoRoot } from '../../stack/paths.js'
import { uniqueName } from '../../stack/test-helpers.js'
import {
  concurrency,
  handler,
  resetFixture,
  seen,
  type FixtureTask,
} from './fixtures/by-body-handler.js'

// drain (scripts/drain.ts) plays Lambda's SQS event source mapping against the stack's moto:
// every test gets its own queues (1 s visibility, redrive to a dead-letter queue after 3 receives).

const sqs = () => new SQSClient({})
const fixtureModule = 'test/integration/fleet/fixtures/by-body-handler.ts'

async function workQueue(visibilityTimeoutSeconds = 1): Promise<WorkQueue> {
  const queues = await ensureWorkQueues({
    prefix: uniqueName('drain'),
    visibilityTimeoutSeconds,
    maxReceiveCount: 3,
  })
  return queues.reconcile
}

async function send(
  queue: WorkQueue,
  tasks: FixtureTask[],
  attributes?: Record<string, MessageAttributeValue>,
) {
  const client = sqs()
  for (const task of tasks)
    await client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify(task),
        ...(attributes && { MessageAttributes: attributes }),
      }),
    )
}

const onQueue = (queue: WorkQueue, extra: Partial<DrainQueue> = {}): DrainQueue => ({
  name: 'reconcile',
  url: queue.url,
  handler,
  timeoutSeconds: 900,
  ...extra,
})

const seenFor = (id: string) =>
  seen.filter(({ record }) => (JSON.parse(record.body) as FixtureTask).id === id)

beforeEach(() => resetFixture())

describe('npm run drain (Lambda SQS event source, locally)', () => {
  it('deletes the messages whose handling succeeded and stops when the queue is empty', async () => {
    const queue = await workQueue()
    await send(
      queue,
      ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, do: 'ok' as const })),
    )

    const summary = await drainQueues({ queues: [onQueue(queue)], concurrency: 2, maxSeconds: 30 })

    expect(summary).toMatchObject({ drained: true, invocations: 5, succeeded: 5, failed: 0 })
    expect(summary.deleted).toBe(5)
    expect(summary.queues[0]).toMatchObject({ left: { visible: 0, inFlight: 0 }, dlqDepth: 0 })
    expect((await queueDepth(queue.url)).total).toBe(0)
    expect(seen.map(({ record }) => record.attributes.ApproximateReceiveCount)).toEqual(
      Array(5).fill('1'),
    )
    expect(summary.invocationResults[0]!.result).toEqual({ results: [expect.any(Object)] })
  })

  it('retries a failed message after its visibility timeout and leaves it to the queue to dead-letter after 3 receives', async () => {
    const queue = await workQueue(1)
    await send(queue, [
      { id: 'broken', do: 'fail' },
      { id: 'fine', do: 'ok' },
    ])

    const summary = await drainQueues({ queues: [onQueue(queue)], concurrency: 2, maxSeconds: 30 })

    const tries = seenFor('broken')
    expect(tries.map(({ record }) => record.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
      '3',
    ])
    // Each retry waited out the 1 s visibility timeout: the failed message was not deleted.
    const at = tries.map((seenTry) => seenTry.at)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900)
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(900)
    expect(new Set(tries.map(({ record }) => record.messageId)).size).toBe(1)
    expect(seenFor('fine')).toHaveLength(1)
    expect(summary).toMatchObject({ drained: true, succeeded: 1, failed: 3, deleted: 1 })
    expect(summary.queues[0]!.dlqDepth).toBe(1)
    expect((await queueDepth(queue.url)).total).toBe(0)
    expect((await queueDepth(queue.dlqUrl)).total).toBe(1)
  })

  it('hands the handler the exact record and context Lambda builds', async () => {
    const queue = await workQueue()
    await send(queue, [{ id: 'shape', do: 'ok' }], {
      team: { DataType: 'String', StringValue: 'platform' },
      weight: { DataType: 'Number', StringValue: '7' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from('1100') },
    })
    const sentAt = Date.now()

    await drainQueues({ queues: [onQueue(queue, { timeoutSeconds: 90 })], maxSeconds: 30 })

    expect(seen).toHaveLength(1)
    const { record, context, remainingMs } = seen[0]!
    expect(Object.keys(record).sort()).toEqual(
      [
        'messageId',
        'receiptHandle',
        'body',
        'attributes',
        'messageAttributes',
        'md5OfBody',
        'md5OfMessageAttributes',
        'eventSource',
        'eventSourceARN',
        'awsRegion',
      ].sort(),
    )
    expect(record).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receiptHandle: expect.any(String),
      body: JSON.stringify({ id: 'shape', do: 'ok' }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        team: {
          stringValue: 'platform',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        weight: {
          stringValue: '7',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Number',
        },
        blob: {
          binaryValue: 'MTEwMA==',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: createHash('md5')
        .update(JSON.stringify({ id: 'shape', do: 'ok' }))
        .digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    })
    expect(Math.abs(Number(record.attributes.SentTimestamp) - sentAt)).toBeLessThan(5_000)
    const account = queue.arn.split(':')[4]
    expect(context).toEqual({
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      functionName: 'kube-mongo-sync-local-reconcileWorker',
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:kube-mongo-sync-local-reconcileWorker`,
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/kube-mongo-sync-local-reconcileWorker',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
      callbackWaitsForEmptyEventLoop: true,
    })
    expect(remainingMs).toBeGreaterThan(85_000)
    expect(remainingMs).toBeLessThanOrEqual(90_000)
  })

  it('fails the whole batch when the handler throws, and only the listed records otherwise', async () => {
    const queue = await workQueue(30)
    await send(queue, [
      { id: 'x1', do: 'ok' },
      { id: 'x2', do: 'throw' },
      { id: 'x3', do: 'ok' },
    ])
    const thrown = await drainQueues({
      queues: [onQueue(queue)],
      concurrency: 1,
      batchSize: 10,
      maxSeconds: 3,
    })
    // One invocation with all three records: it threw, so none was deleted.
    expect(thrown.invocationResults).toHaveLength(1)
    expect(thrown.invocationResults[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('fixture asked to throw by task x2'),
    })
    expect(thrown.invocationResults[0]!.records.map((record) => record.deleted)).toEqual([
      false,
      false,
      false,
    ])
    expect(thrown).toMatchObject({ drained: false, failed: 3, deleted: 0 })
    expect((await queueDepth(queue.url)).notVisible).toBe(3)

    const partial = await workQueue(30)
    await send(partial, [
      { id: 'p1', do: 'ok' },
      { id: 'p2', do: 'fail' },
      { id: 'p3', do: 'ok' },
    ])
    const reported = await drainQueues({
      queues: [onQueue(partial)],
      concurrency: 1,
      batchSize: 10,
      maxSeconds: 3,
    })
    expect(reported.invocationResults).toHaveLength(1)
    expect(reported.invocationResults[0]!.outcome).toBe('partial')
    expect(reported).toMatchObject({ succeeded: 2, failed: 1, deleted: 2 })
    expect((await queueDepth(partial.url)).total).toBe(1)
  })

  it('fails the whole batch when the response names a record that is not in it', async () => {
    const queue = await workQueue(30)
    await send(queue, [
      { id: 'y1', do: 'ok' },
      { id: 'y2', do: 'bad-id' },
    ])
    const summary = await drainQueues({
      queues: [onQueue(queue)],
      concurrency: 1,
      batchSize: 10,
      maxSeconds: 3,
    })
    expect(summary.invocationResults[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('invalid itemIdentifier'),
    })
    expect(summary.deleted).toBe(0)
  })

  it('fails an invocation that runs past the function timeout, as Lambda does', async () => {
    const queue = await workQueue(30)
    await send(queue, [{ id: 'slow', do: 'ok', ms: 1_500 }])
    const summary = await drainQueues({
      queues: [onQueue(queue, { timeoutSeconds: 1 })],
      maxSeconds: 3,
    })
    expect(summary.invocationResults[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('Task timed out after 1 seconds'),
    })
    expect(summary.deleted).toBe(0)
    expect((await queueDepth(queue.url)).notVisible).toBe(1)
  })

  it('keeps at most --concurrency invocations in flight, and uses them all', async () => {
    const queue = await workQueue()
    await send(
      queue,
      Array.from({ length: 12 }, (_, i) => ({ id: `c${i}`, do: 'ok' as const, ms: 250 })),
    )
    const summary = await drainQueues({ queues: [onQueue(queue)], concurrency: 3, maxSeconds: 30 })
    expect(summary).toMatchObject({ drained: true, succeeded: 12 })
    expect(concurrency.max).toBe(3)
    expect(summary.maxInFlight).toBe(3)
    // Four rounds of three 250 ms invocations, not twelve in a row.
    expect(summary.durationMs).toBeLessThan(12 * 250)
  })

  it('stops at maxSeconds with work left, saying what is left', async () => {
    const queue = await workQueue(60)
    await send(queue, [{ id: 'stuck', do: 'fail' }])
    const started = Date.now()
    const summary = await drainQueues({ queues: [onQueue(queue)], maxSeconds: 2 })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(summary).toMatchObject({ drained: false, failed: 1, running: 0 })
    expect(summary.queues[0]!.left).toEqual({ visible: 0, inFlight: 1, delayed: 0 })
  })

  it('runs as `npm run drain` with a handler module, printing one line per invocation and a summary', async () => {
    const queue = await workQueue()
    await send(queue, [
      { id: 'cli-ok', do: 'ok' },
      { id: 'cli-fail', do: 'fail' },
    ])
    const run = await promisify(execFile)(
      'bash',
      [
        'scripts/node22.sh',
        'node',
        '--import',
        'tsx',
        'scripts/drain.ts',
        '--no-stack-env',
        '--queue',
        'reconcile',
        '--handler',
        `reconcile=${fixtureModule}`,
        '--json',
        '--max-seconds',
        '30',
      ],
      { cwd: repoRoot, env: { ...process.env, RECONCILE_QUEUE_URL: queue.url } },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const invocations = lines.filter((line) => line.event === 'invocation')
    expect(invocations).toHaveLength(4)
    expect(invocations.every((line) => line.source === 'drain')).toBe(true)
    expect(
      invocations
        .map((line) => `${line.records[0].task} ${line.records[0].receiveCount} ${line.outcome}`)
        .sort(),
    ).toEqual([
      `${JSON.stringify({ id: 'cli-fail', do: 'fail' })} 1 failed`,
      `${JSON.stringify({ id: 'cli-fail', do: 'fail' })} 2 failed`,
      `${JSON.stringify({ id: 'cli-fail', do: 'fail' })} 3 failed`,
      `${JSON.stringify({ id: 'cli-ok', do: 'ok' })} 1 ok`,
    ])
    expect(lines.at(-1)).toMatchObject({
      source: 'drain',
      event: 'summary',
      drained: true,
      succeeded: 1,
      failed: 3,
      queues: [{ name: 'reconcile', dlqDepth: 1 }],
    })
    // Drained, but some records failed: exit code 2.
    expect((run as { code?: number }).code).toBe(2)
  })
})
