import type { SQSClient } from '@aws-sdk/client-sqs'
import type { BoundQueue } from './invoke-batch.js'
import { queueDepth } from './queue-state.js'
import type { DrainSummary, InvocationResult, QueueSummary } from './types.js'
import { isEmpty } from './queue-state.js'

interface EndState {
  running: number
  maxInFlight: number
  results: InvocationResult[]
}

/** Counts per queue, what is left in each, and the depth of each dead-letter queue. */
export async function summarize(
  sqs: SQSClient,
  queues: BoundQueue[],
  state: EndState,
  startedAt: number,
): Promise<DrainSummary> {
  const perQueue = await Promise.all(queues.map((queue) => queueSummary(sqs, queue, state.results)))
  const records = state.results.flatMap((result) => result.records)
  return {
    drained: state.running === 0 && perQueue.every((queue) => isEmpty(queue.left)),
    invocations: state.results.length,
    succeeded: records.filter((record) => !record.failed).length,
    failed: records.filter((record) => record.failed).length,
    deleted: records.filter((record) => record.deleted).length,
    running: state.running,
    maxInFlight: state.maxInFlight,
    durationMs: Date.now() - startedAt,
    queues: perQueue,
    invocationResults: state.results,
  }
}

async function queueSummary(
  sqs: SQSClient,
  queue: BoundQueue,
  results: InvocationResult[],
): Promise<QueueSummary> {
  const mine = results.filter((result) => result.queue === queue.name)
  const records = mine.flatMap((result) => result.records)
  const left = await queueDepth(sqs, queue.facts.url)
  const dlq = queue.facts.dlqUrl ? await queueDepth(sqs, queue.facts.dlqUrl) : undefined
  return {
    name: queue.name,
    invocations: mine.length,
    succeeded: records.filter((record) => !record.failed).length,
    failed: records.filter((record) => record.failed).length,
    deleted: records.filter((record) => record.deleted).length,
    left,
    ...(dlq && { dlqDepth: dlq.visible + dlq.inFlight + dlq.delayed }),
  }
}
