import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { messageOf } from '../errors.js'
import { errorFields, logger } from '../log.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import { readFleetRegistry } from '../store/bookkeeping/fleet-registry.js'
import type { ResourceReport } from '../sync/resource-report.js'
import type { RunOutput } from '../sync/fan-out.js'

/*
 * The worker side of the queues (docs/fleets.md#workers): Lambda's SQS event
 * source hands a batch of records; each is a task, worked on its own, and the
 * ones that failed are returned as batchItemFailures so only they come back.
 * A failed task is made visible again after WORKER_RETRY_DELAY_SECONDS times
 * its receive count, so its three receives fall well inside the schedule
 * interval and a cluster that stays broken lands its tasks in the
 * dead-letter queue instead of waiting out a 6x-timeout visibility.
 */

/** What one record's task came to. */
export type TaskOutcome =
  | { readonly outcome: 'done'; readonly output: RunOutput<ResourceReport, object> }
  | {
      readonly outcome: 'failed'
      readonly error: string
      readonly output?: RunOutput<ResourceReport, object>
    }
  | { readonly outcome: 'dropped'; readonly reason: string }

export interface WorkerSpec<T extends { readonly plannedAt: string }> {
  /** `reconcile` or `watch`: names the log events. */
  readonly name: string
  readonly queueUrl: string | undefined
  readonly maxAgeSeconds: number
  readonly retryDelaySeconds: number
  /** The task in a record's body; throws on a malformed body. */
  readonly parse: (body: string) => T
  /** What log lines say of a task: its cluster(s) and resource, never credentials. */
  readonly summary: (task: T) => object
  readonly run: (task: T) => Promise<TaskOutcome>
  /** The clusters a task names: one no longer in the registry is dropped, not run. */
  readonly clustersOf: (task: T) => readonly string[]
  /** Called per task that ran (metrics). */
  readonly onOutcome?: (outcome: TaskOutcome) => void
}

/** SQS's longest visibility timeout: 12 hours. */
const MAX_VISIBILITY_S = 43_200

export async function workRecords<T extends { readonly plannedAt: string }>(
  runtime: SyncRuntime,
  event: SQSEvent,
  spec: WorkerSpec<T>,
): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = []
  const managed = await managedClusters(runtime)
  for (const record of event.Records ?? []) {
    const outcome = await workRecord(record, spec, managed)
    spec.onOutcome?.(outcome)
    if (outcome.outcome !== 'failed') continue
    failures.push({ itemIdentifier: record.messageId })
    await delayRetry(runtime, record, spec)
  }
  return { batchItemFailures: failures }
}

/**
 * The registry's clusters as the last plan recorded them (one `_id` read), or
 * undefined without a registry. A task planned before its cluster left the
 * registry must not write it back, least of all after a `forget`.
 */
async function managedClusters(runtime: SyncRuntime): Promise<Set<string> | undefined> {
  const registry = await runtime.mongoGuard(() => readFleetRegistry(runtime.db))
  return registry && new Set(registry.clusters.map((c) => c.name))
}

async function workRecord<T extends { readonly plannedAt: string }>(
  record: SQSRecord,
  spec: WorkerSpec<T>,
  managed: Set<string> | undefined,
): Promise<TaskOutcome> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1)
  const base = { messageId: record.messageId, receiveCount }
  let task: T
  try {
    task = spec.parse(record.body)
  } catch (error) {
    // Never the body itself: it is named by its message id, and kept by the dead-letter queue.
    logger.error(`${spec.name} task ${record.messageId} is malformed: ${messageOf(error)}`, {
      event: 'task.malformed',
      ...base,
    })
    return { outcome: 'failed', error: messageOf(error) }
  }
  const ageSeconds = Math.round((Date.now() - Date.parse(task.plannedAt)) / 1000)
  if (ageSeconds > spec.maxAgeSeconds) {
    const reason = `planned ${ageSeconds} s ago, more than ${spec.maxAgeSeconds} s: the next plan covers it`
    logger.warn(`${spec.name} task dropped: ${reason}`, {
      event: 'task.dropped',
      ...base,
      ...spec.summary(task),
      ageSeconds,
    })
    return { outcome: 'dropped', reason }
  }
  const gone = managed ? spec.clustersOf(task).filter((c) => !managed.has(c)) : []
  if (gone.length > 0) {
    const reason = `cluster(s) ${gone.join(', ')} no longer in the registry`
    logger.warn(`${spec.name} task dropped: ${reason}`, {
      event: 'task.dropped',
      ...base,
      ...spec.summary(task),
    })
    return { outcome: 'dropped', reason }
  }
  logger.info(`${spec.name} task started`, {
    event: 'task.started',
    ...base,
    ...spec.summary(task),
    ageSeconds,
  })
  let outcome: TaskOutcome
  try {
    outcome = await spec.run(task)
  } catch (error) {
    outcome = { outcome: 'failed', error: messageOf(error) }
  }
  const line = { event: 'task.done', ...base, ...spec.summary(task), outcome: outcome.outcome }
  if (outcome.outcome === 'failed') logger.error(`${spec.name} task failed: ${outcome.error}`, line)
  else logger.info(`${spec.name} task ${outcome.outcome}`, line)
  return outcome
}

async function delayRetry(
  runtime: SyncRuntime,
  record: SQSRecord,
  spec: { readonly queueUrl: string | undefined; readonly retryDelaySeconds: number },
): Promise<void> {
  if (!spec.queueUrl) return
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1)
  const seconds = Math.min(MAX_VISIBILITY_S, spec.retryDelaySeconds * receiveCount)
  try {
    await runtime.sqs().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: spec.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    )
  } catch (error) {
    // The message still comes back, after the queue's own visibility timeout.
    logger.warn(`could not shorten the retry delay of ${record.messageId}`, {
      event: 'task.retry-delay-failed',
      messageId: record.messageId,
      ...errorFields(error),
    })
  }
}
