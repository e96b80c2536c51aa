import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { BoundQueue } from './invoke-batch.js'
import { describeQueue } from './queue-state.js'
import type { DrainQueue, SqsHandler } from './types.js'

/** Reads the queue's ARN and dead-letter queue and loads its handler: ready to invoke. */
export async function bindQueue(
  sqs: SQSClient,
  queue: DrainQueue,
  region: string,
): Promise<BoundQueue> {
  const [facts, handler] = await Promise.all([describeQueue(sqs, queue.url), loadHandler(queue)])
  return {
    name: queue.name,
    facts,
    handler,
    fn: {
      functionName: queue.functionName ?? `kube-mongo-sync-local-${queue.name}Worker`,
      region,
      account: facts.account,
      memoryLimitInMB: queue.memoryLimitInMB ?? 512,
      timeoutSeconds: queue.timeoutSeconds,
    },
  }
}

async function loadHandler(queue: DrainQueue): Promise<SqsHandler> {
  if (queue.handler) return queue.handler
  if (!queue.handlerModule) throw new Error(`queue ${queue.name}: no handler and no handler module`)
  const url = pathToFileURL(resolve(queue.handlerModule)).href
  const loaded = (await import(url)) as { handler?: unknown }
  if (typeof loaded.handler !== 'function')
    throw new Error(`queue ${queue.name}: ${queue.handlerModule} exports no handler function`)
  return loaded.handler as SqsHandler
}
