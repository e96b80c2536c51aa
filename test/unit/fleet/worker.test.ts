import type { SQSEvent, SQSRecord } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { workRecords, type TaskOutcome, type WorkerSpec } from '../../../lib/fleet/worker.js'
import type { SyncRuntime } from '../../../lib/runtime/sync-dependencies.js'

interface Task {
  readonly plannedAt: string
  readonly cluster: string
  readonly fail?: boolean
}

/** A runtime with what the worker side touches: the recorded registry and the queue client. */
function fakeRuntime(registry: string[] | undefined) {
  const visibility: Array<{ ReceiptHandle: string; VisibilityTimeout: number }> = []
  const doc = registry && {
    _id: 'registry',
    clusters: registry.map((name) => ({ name, resources: ['v1/pods'] })),
    plannedAt: new Date(),
  }
  const runtime = {
    db: { collection: () => ({ findOne: () => Promise.resolve(doc ?? null) }) },
    mongoGuard: <T>(fn: () => Promise<T>) => fn(),
    sqs: () => ({
      send: (command: { input: { ReceiptHandle: string; VisibilityTimeout: number } }) => {
        visibility.push(command.input)
        return Promise.resolve({})
      },
    }),
  } as unknown as SyncRuntime
  return { runtime, visibility }
}

function record(id: string, task: Task | string, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof task === 'string' ? task : JSON.stringify(task),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  } as unknown as SQSRecord
}

function spec(ran: string[], outcomes: TaskOutcome[]): WorkerSpec<Task> {
  return {
    name: 'reconcile',
    queueUrl: 'http://queue',
    maxAgeSeconds: 900,
    retryDelaySeconds: 30,
    parse: (body) => {
      const task = JSON.parse(body) as Task
      if (typeof task.cluster !== 'string') throw new Error('bad field(s) cluster')
      return task
    },
    summary: (task) => ({ cluster: task.cluster }),
    clustersOf: (task) => [task.cluster],
    onOutcome: (o) => outcomes.push(o),
    run: (task) => {
      ran.push(task.cluster)
      return Promise.resolve(
        task.fail
          ? { outcome: 'failed', error: 'API server down' }
          : { outcome: 'done', output: { ok: true, durationMs: 1, resources: [] } },
      )
    },
  }
}

const now = () => new Date().toISOString()

describe('the worker side of a queue', () => {
  it('reports only the failed records, and brings each back after the delay times its receives', async () => {
    const { runtime, visibility } = fakeRuntime(undefined)
    const ran: string[] = []
    const event: SQSEvent = {
      Records: [
        record('m1', { plannedAt: now(), cluster: 'a' }),
        record('m2', { plannedAt: now(), cluster: 'b', fail: true }, 2),
      ],
    }
    const response = await workRecords(runtime, event, spec(ran, []))
    expect(ran).toEqual(['a', 'b'])
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] })
    expect(visibility).toEqual([
      expect.objectContaining({ ReceiptHandle: 'rh-m2', VisibilityTimeout: 60 }),
    ])
  })

  it('drops a task older than its schedule interval without running it', async () => {
    const { runtime } = fakeRuntime(undefined)
    const ran: string[] = []
    const outcomes: TaskOutcome[] = []
    const old = new Date(Date.now() - 901_000).toISOString()
    const response = await workRecords(
      runtime,
      { Records: [record('m1', { plannedAt: old, cluster: 'a' })] },
      spec(ran, outcomes),
    )
    expect(ran).toEqual([])
    expect(response.batchItemFailures).toEqual([])
    expect(outcomes[0]).toMatchObject({
      outcome: 'dropped',
      reason: expect.stringMatching(/^planned 90\d s ago/),
    })
  })

  it('drops a task whose cluster left the registry, so a forgotten cluster is not written back', async () => {
    const { runtime } = fakeRuntime(['a'])
    const ran: string[] = []
    const outcomes: TaskOutcome[] = []
    await workRecords(
      runtime,
      {
        Records: [
          record('m1', { plannedAt: now(), cluster: 'a' }),
          record('m2', { plannedAt: now(), cluster: 'gone' }),
        ],
      },
      spec(ran, outcomes),
    )
    expect(ran).toEqual(['a'])
    expect(outcomes[1]).toEqual({
      outcome: 'dropped',
      reason: 'cluster(s) gone no longer in the registry',
    })
  })

  it('fails a malformed message (for the dead-letter queue) without running anything', async () => {
    const { runtime } = fakeRuntime(undefined)
    const ran: string[] = []
    const response = await workRecords(
      runtime,
      { Records: [record('m1', '{"plannedAt":"2026-01-01T00:00:00Z"}')] },
      spec(ran, []),
    )
    expect(ran).toEqual([])
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }])
  })
})
