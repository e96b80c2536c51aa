import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { SyncError } from '../errors.js'
import { logger } from '../log.js'
import { retryWithBackoff, type RetryPolicy } from '../retry.js'
import { notTransient } from '../classify.js'

/** SQS takes at most 10 messages per SendMessageBatch. */
export const SQS_BATCH_MAX = 10

/** How many batches are in flight at once: 2,000 tasks are 200 batches. */
const SEND_CONCURRENCY = 8

export interface SendOptions {
  readonly queueUrl: string
  readonly policy: RetryPolicy
  readonly signal?: AbortSignal
  /** For the log lines: `reconcile` or `watch`. */
  readonly kind: string
}

/**
 * Sends tasks in batches of 10. An entry SQS failed (the batch's partial
 * failure) is sent again with the batch's retry, so every task is sent once
 * acknowledged; a batch that fails for good throws, naming how many were sent.
 */
export async function sendTasks(
  sqs: SQSClient,
  tasks: readonly object[],
  options: SendOptions,
): Promise<{ sent: number; batches: number }> {
  const batches: object[][] = []
  for (let i = 0; i < tasks.length; i += SQS_BATCH_MAX)
    batches.push(tasks.slice(i, i + SQS_BATCH_MAX))
  let sent = 0
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const index = next++
      // Read the count first: `sent += await` would add to the value read before the wait.
      const n = await sendBatch(sqs, batches[index]!, index, options)
      sent += n
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, batches.length) }, worker))
  } catch (error) {
    throw new SyncError(
      `planning ${options.kind}: sent ${sent} of ${tasks.length} tasks, then failed`,
      {
        cause: error,
        context: { operation: 'sqs:SendMessageBatch' },
      },
    )
  }
  logger.info(`planned ${sent} ${options.kind} tasks`, {
    event: 'plan.sent',
    kind: options.kind,
    tasks: sent,
    batches: batches.length,
  })
  return { sent, batches: batches.length }
}

async function sendBatch(
  sqs: SQSClient,
  batch: readonly object[],
  index: number,
  options: SendOptions,
): Promise<number> {
  let pending = batch.map((task, i) => ({ Id: String(i), MessageBody: JSON.stringify(task) }))
  await retryWithBackoff(
    async () => {
      const out = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: pending }),
        options.signal ? { abortSignal: options.signal } : {},
      )
      const failed = new Set((out.Failed ?? []).map((f) => f.Id))
      if (failed.size === 0) return
      pending = pending.filter((entry) => failed.has(entry.Id))
      const reasons = (out.Failed ?? []).map((f) => f.Code ?? 'unknown').join(', ')
      throw new PartialBatchError(`${failed.size} of batch ${index} not sent (${reasons})`)
    },
    `send ${options.kind} batch ${index}`,
    {
      policy: options.policy,
      isFatal: (error) => !(error instanceof PartialBatchError) && notTransient(error),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  )
  return batch.length
}

/** Some entries of a batch were refused (throttled, internal error): those are sent again. */
class PartialBatchError extends Error {
  override readonly name = 'PartialBatchError'
}
