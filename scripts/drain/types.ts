import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Context, SQSEvent } from 'aws-lambda'

/**
 * A worker's handler, as the Lambda runtime calls it. It should answer an SQSBatchResponse;
 * anything else is judged as Lambda would (see batch-response.ts), hence `unknown`.
 */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<unknown>

/** One queue and the function its event source mapping invokes. */
export interface DrainQueue {
  /** Short name used in lines and the summary: `reconcile`, `watch`, or a test's own. */
  name: string
  url: string
  /** The handler itself, or a module path exporting `handler` (loaded once). */
  handler?: SqsHandler
  handlerModule?: string
  /** Lambda function name in the context; default `kube-mongo-sync-local-<name>Worker`. */
  functionName?: string
  /** The function's timeout: the context's deadline and the point an invocation is abandoned. */
  timeoutSeconds: number
  memoryLimitInMB?: number
}

export interface DrainOptions {
  queues: DrainQueue[]
  /** Invocations in flight per queue (an event source mapping's maximumConcurrency). Default 2. */
  concurrency?: number
  /** Records per invocation (the mapping's BatchSize). Default 1, as deployed. */
  batchSize?: number
  /** Long-poll wait of each ReceiveMessage. Default 1 s, so an empty queue ends the drain quickly. */
  waitTimeSeconds?: number
  /** Give up after this long: stop receiving and report what is left. Default: no limit. */
  maxSeconds?: number
  region?: string
  sqs?: SQSClient
  /** Called once per invocation, as soon as it ends (the CLI prints a line). */
  onInvocation?: (invocation: InvocationResult) => void
}

export type Outcome = 'ok' | 'failed' | 'partial'

/** One record's fate in one invocation. */
export interface RecordResult {
  messageId: string
  receiveCount: number
  task: string
  failed: boolean
  deleted: boolean
}

export interface InvocationResult {
  queue: string
  requestId: string
  records: RecordResult[]
  outcome: Outcome
  durationMs: number
  /** Why the whole batch failed: the thrown error, a timeout, or an invalid response. */
  error?: string
  /** What the handler returned beside batchItemFailures (its per-task report), when anything. */
  result?: Record<string, unknown>
  startedAt: number
}

export interface QueueDepth {
  visible: number
  inFlight: number
  delayed: number
}

export interface QueueSummary {
  name: string
  invocations: number
  succeeded: number
  failed: number
  deleted: number
  left: QueueDepth
  /** Messages in the queue's dead-letter queue at the end (undefined: no redrive policy). */
  dlqDepth?: number
}

export interface DrainSummary {
  /** True when every queue ended empty with nothing running (not stopped by maxSeconds). */
  drained: boolean
  invocations: number
  /** Records handled successfully (and so deleted) / records that failed (left for a retry). */
  succeeded: number
  failed: number
  deleted: number
  /** Invocations still running when maxSeconds stopped the drain. */
  running: number
  maxInFlight: number
  durationMs: number
  queues: QueueSummary[]
  invocationResults: InvocationResult[]
}
