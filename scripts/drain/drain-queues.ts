import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs'
import { bindQueue } from './bind-queue.js'
import { invokeBatch, type BoundQueue } from './invoke-batch.js'
import { isEmpty, queueDepth } from './queue-state.js'
import { summarize } from './summary.js'
import type { DrainOptions, DrainSummary, InvocationResult } from './types.js'

interface DrainState {
  running: number
  maxInFlight: number
  stopped: boolean
  results: InvocationResult[]
}

/**
 * Plays Lambda's SQS event source mapping against real queues until they are empty:
 * per queue, `concurrency` pollers each receive up to `batchSize` messages (all system
 * and message attributes), invoke the queue's handler with them as one SQS event, and
 * delete what did not fail. It ends when every queue shows nothing visible, in flight or
 * delayed and no invocation runs, or at `maxSeconds` (invocations still running are
 * abandoned, as a stopped poller would leave them: their messages come back).
 */
export async function drainQueues(options: DrainOptions): Promise<DrainSummary> {
  const startedAt = Date.now()
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1'
  const sqs = options.sqs ?? new SQSClient({ region })
  const queues = await Promise.all(options.queues.map((queue) => bindQueue(sqs, queue, region)))
  const state: DrainState = { running: 0, maxInFlight: 0, stopped: false, results: [] }
  const deadline = startedAt + (options.maxSeconds ?? Infinity) * 1000
  const concurrency = options.concurrency ?? 2
  const pollers = queues.flatMap((queue) =>
    Array.from({ length: concurrency }, () => poll(sqs, queue, queues, state, options, deadline)),
  )
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(deadline))
      timer = setTimeout(() => resolve('timeout'), deadline - startedAt)
  })
  try {
    const ended = await Promise.race([Promise.all(pollers), timedOut])
    if (ended === 'timeout') state.stopped = true
  } catch (error) {
    state.stopped = true
    throw error
  } finally {
    clearTimeout(timer)
  }
  return summarize(sqs, queues, state, startedAt)
}

async function poll(
  sqs: SQSClient,
  queue: BoundQueue,
  all: BoundQueue[],
  state: DrainState,
  options: DrainOptions,
  deadline: number,
): Promise<void> {
  while (!state.stopped && Date.now() < deadline) {
    const messages = await receive(sqs, queue, options, deadline)
    if (messages.length === 0) {
      if (state.running === 0 && (await allEmpty(sqs, all)) && state.running === 0)
        state.stopped = true
      continue
    }
    state.running += 1
    state.maxInFlight = Math.max(state.maxInFlight, state.running)
    try {
      const result = await invokeBatch(sqs, queue, messages)
      state.results.push(result)
      options.onInvocation?.(result)
    } finally {
      state.running -= 1
    }
  }
}

async function receive(
  sqs: SQSClient,
  queue: BoundQueue,
  options: DrainOptions,
  deadline: number,
): Promise<Message[]> {
  const secondsLeft = Math.floor((deadline - Date.now()) / 1000)
  const answer = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.facts.url,
      MaxNumberOfMessages: options.batchSize ?? 1,
      WaitTimeSeconds: Math.max(0, Math.min(options.waitTimeSeconds ?? 1, secondsLeft)),
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  )
  return answer.Messages ?? []
}

async function allEmpty(sqs: SQSClient, queues: BoundQueue[]): Promise<boolean> {
  const depths = await Promise.all(queues.map((queue) => queueDepth(sqs, queue.facts.url)))
  return depths.every(isEmpty)
}
