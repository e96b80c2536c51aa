import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Context, SQSEvent } from 'aws-lambda'

import { planReconcile } from '../../lib/fleet/plan.js'
import { parseRegistryEntries } from '../../lib/fleet/registry-schema.js'
import { fleetClusterOf } from '../../lib/fleet/registry.js'
import { parseResourceRef } from '../../lib/resource-ref.js'
import type { SqsHandler } from '../../scripts/drain/types.js'
import type { StackEnv } from '../stack/env-file.js'
import type { WorkerCapture } from './fleet-capture.js'
import { FLEET_CLUSTERS, type FleetFunctions } from './fleet-workers.js'
import { BENCH_RESOURCE } from './configs.js'
import { percentile } from './stats.js'

/*
 * The per-task overhead on the local drain: one reconcile task of a resource
 * with no objects (ReplicationControllers: the stack runs no controller that
 * makes any), so the task is almost only its overhead. Tasks go one at a
 * time onto an idle queue: each is sent when the previous one's handler has
 * returned, while the drain's other poller waits in its long poll, as an
 * event source's pollers do. Per task, from four clocks of this one process:
 *   sent      the message's SentTimestamp (SQS, ms)
 *   invoked   the handler called by the drain with the record
 *   started   the worker's `task.started` log line (after parse, age and registry checks)
 *   leased    the lease claim's insert into sync_leases acknowledged (fleet-capture.ts)
 * The worker container is warm (the queue and inline runs came first): the
 * cold start is its own figure (cold-start.ts).
 */

export const OVERHEAD_RESOURCE = 'v1/replicationcontrollers'
const SAMPLES = 40

interface Sample {
  sent: number
  invoked: number
  started?: number
  leased?: number
  done: number
}

export interface Spread {
  p50: number
  p99: number
  max: number
}

export interface OverheadFigure {
  resource: string
  /** Tasks measured (the first, sent before the drain started, is left out). */
  samples: number
  /** sent -> handler invoked: receive, record building (the event source's part). */
  enqueueToInvokeMs: Spread
  /** handler invoked -> task.started: middy, secrets, config, MongoDB (warm), registry read. */
  invokeToStartMs: Spread
  /** task.started -> lease claim acknowledged: cluster client, discovery, the lease's reads and insert. */
  startToLeaseMs: Spread
  /** sent -> lease acquired: the whole overhead before the task's own work. */
  enqueueToLeaseMs: Spread
  /** handler invoked -> handler returned (the whole empty task, lease release and checkpoint included). */
  invocationMs: Spread
}

function spread(values: number[]): Spread {
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: Math.max(...values),
  }
}

export async function benchOverhead(
  env: StackEnv,
  sqs: SQSClient,
  fns: FleetFunctions,
  capture: WorkerCapture,
  log: (line: string) => void,
): Promise<OverheadFigure> {
  const [entry] = parseRegistryEntries(
    [{ name: FLEET_CLUSTERS[0], kubeconfigPath: env.KUBECONFIG_1 }],
    'bench',
  )
  const cluster = fleetClusterOf(entry!, [parseResourceRef(BENCH_RESOURCE)!])
  const send = async () => {
    const [task] = planReconcile([cluster], { resources: [OVERHEAD_RESOURCE] }, new Date())
    await sqs.send(
      new SendMessageCommand({ QueueUrl: fns.queueUrl, MessageBody: JSON.stringify(task) }),
    )
  }
  const samples = new Map<string, Sample & { owner: string }>()
  let sentCount = 0
  const handler: SqsHandler = async (event: SQSEvent, context: Context) => {
    const invoked = Date.now()
    const retried = event.Records.some((r) => samples.has(r.messageId))
    const result = await fns.worker(event, context)
    const done = Date.now()
    for (const record of event.Records) {
      samples.set(record.messageId, {
        sent: Number(record.attributes.SentTimestamp),
        invoked,
        done,
        owner: `reconcileWorker/${context.awsRequestId}`,
      })
    }
    // The next task, once: a task that failed and comes back sends none.
    if (sentCount < SAMPLES + 1 && !retried) {
      sentCount++
      await send()
    }
    return result
  }
  sentCount++
  await send()
  const summary = await fns.drain({ concurrency: 2, handler, waitTimeSeconds: 2 })
  if (summary.failed > 0) throw new Error(`overhead drain: ${summary.failed} tasks failed`)
  const measured = [...samples.entries()]
    .map(([id, s]) => ({
      ...s,
      started: capture.taskStarted.get(id),
      leased: capture.leaseAcquired.get(s.owner),
    }))
    .sort((a, b) => a.sent - b.sent)
    .slice(1)
  const complete = measured.filter((s) => s.started !== undefined && s.leased !== undefined)
  if (complete.length < measured.length / 2)
    throw new Error(
      `overhead: only ${complete.length} of ${measured.length} tasks logged task.started and took a lease`,
    )
  log(`fleet overhead: ${complete.length} tasks measured`)
  return {
    resource: OVERHEAD_RESOURCE,
    samples: complete.length,
    enqueueToInvokeMs: spread(complete.map((s) => s.invoked - s.sent)),
    invokeToStartMs: spread(complete.map((s) => s.started! - s.invoked)),
    startToLeaseMs: spread(complete.map((s) => s.leased! - s.started!)),
    enqueueToLeaseMs: spread(complete.map((s) => s.leased! - s.sent)),
    invocationMs: spread(complete.map((s) => s.done - s.invoked)),
  }
}
