import { DeleteMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs'
import type { SQSRecord } from 'aws-lambda'
import { messageOf } from '../../lib/errors.js'
import { readBatchResponse, type BatchVerdict } from './batch-response.js'
import { lambdaContext, type FunctionIdentity } from './lambda-context.js'
import type { QueueFacts } from './queue-state.js'
import { toSqsRecord } from './sqs-event.js'
import { taskSummary } from './task-summary.js'
import type { InvocationResult, SqsHandler } from './types.js'

export interface BoundQueue {
  name: string
  facts: QueueFacts
  handler: SqsHandler
  fn: FunctionIdentity
}

/**
 * One invocation as the event source mapping makes it: the received messages as one
 * event, the handler under the function's timeout, then DeleteMessageBatch for every
 * record that did not fail. A failed record is left alone: it becomes visible again when
 * its visibility timeout (or the one the handler set) ends, and the queue's redrive
 * policy moves it to the dead-letter queue after maxReceiveCount receives.
 */
export async function invokeBatch(
  sqs: SQSClient,
  queue: BoundQueue,
  messages: Message[],
): Promise<InvocationResult> {
  const startedAt = Date.now()
  const records = messages.map((message) =>
    toSqsRecord(message, { queueArn: queue.facts.arn, region: queue.fn.region }),
  )
  const context = lambdaContext(queue.fn, startedAt)
  const verdict = await runHandler(queue, records, context)
  const failed = (record: SQSRecord) =>
    verdict.kind === 'all' || verdict.failed.has(record.messageId)
  const deleted = await deleteRecords(
    sqs,
    queue,
    records.filter((record) => !failed(record)),
  )
  const results = records.map((record) => ({
    messageId: record.messageId,
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    task: taskSummary(record.body),
    failed: failed(record),
    deleted: deleted.has(record.messageId),
  }))
  const failures = results.filter((record) => record.failed).length
  return {
    queue: queue.name,
    requestId: context.awsRequestId,
    records: results,
    outcome: failures === 0 ? 'ok' : failures === results.length ? 'failed' : 'partial',
    durationMs: Date.now() - startedAt,
    ...(verdict.kind === 'all' && { error: verdict.reason }),
    ...(verdict.result && { result: verdict.result }),
    startedAt,
  }
}

async function runHandler(
  queue: BoundQueue,
  records: SQSRecord[],
  context: ReturnType<typeof lambdaContext>,
): Promise<BatchVerdict> {
  let timer: NodeJS.Timeout | undefined
  // Lambda stops a function at its timeout and counts the batch failed; here the handler's
  // promise cannot be stopped, so it is abandoned (its late answer is ignored).
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Task timed out after ${queue.fn.timeoutSeconds} seconds`)),
      queue.fn.timeoutSeconds * 1000,
    )
  })
  try {
    const response = await Promise.race([queue.handler({ Records: records }, context), timeout])
    return readBatchResponse(response, records)
  } catch (error) {
    return { kind: 'all', reason: `the handler failed: ${messageOf(error)}` }
  } finally {
    clearTimeout(timer)
  }
}

async function deleteRecords(
  sqs: SQSClient,
  queue: BoundQueue,
  records: SQSRecord[],
): Promise<Set<string>> {
  if (records.length === 0) return new Set()
  const answer = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queue.facts.url,
      Entries: records.map((record, index) => ({
        Id: String(index),
        ReceiptHandle: record.receiptHandle,
      })),
    }),
  )
  for (const failure of answer.Failed ?? [])
    process.stderr.write(
      `drain: could not delete a record of ${queue.name}: ${failure.Code} ${failure.Message}\n`,
    )
  return new Set((answer.Successful ?? []).map((entry) => records[Number(entry.Id)]!.messageId))
}
