import { PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs'

import { planReconcile } from '../../lib/fleet/plan.js'
import { parseRegistryEntries } from '../../lib/fleet/registry-schema.js'
import { fleetClusterOf } from '../../lib/fleet/registry.js'
import { sendTasks } from '../../lib/fleet/send-tasks.js'
import { parseResourceRef, type ResourceRef } from '../../lib/resource-ref.js'
import type { RetryPolicy } from '../../lib/retry.js'
import { queueDepth } from '../stack/queues.js'

/*
 * Planning a 200-cluster fleet (issue 18: 2,000 tasks in under 5 s): the
 * registry parsed, planReconcile, then sendTasks's SendMessageBatch calls
 * against the stack's SQS (moto), onto a queue of the bench's own that no
 * worker reads; it is purged before and after.
 *
 * Taken three times: the plan as the reconcile function makes it (one
 * sendTasks of 2,000 into one empty queue that keeps them all); the same 2,000
 * again onto that queue (a plan that finds the last one undrained); and the
 * 2,000 sent 200 at a time, each onto an emptied queue. Each moto SendMessage
 * still counts the messages its queue holds (cheaply since
 * test/stack/servers/moto-patches), so the three differ by what the queue's
 * depth costs moto, which SQS's SendMessage does not have.
 */

export const PLAN_CLUSTERS = 200

/** Ten resources per cluster, as a registry without per-cluster `resources` gives them all. */
export const PLAN_RESOURCES = [
  'v1/configmaps',
  'v1/secrets',
  'v1/services',
  'v1/pods',
  'v1/serviceaccounts',
  'apps/v1/deployments',
  'apps/v1/statefulsets',
  'apps/v1/daemonsets',
  'batch/v1/jobs',
  'networking.k8s.io/v1/ingresses',
] as const

/** The defaults of RETRY_* (docs/configuration.md): what the reconcile function plans with. */
const PLAN_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  backoffMultiplier: 2,
}

export interface PlanFigure {
  clusters: number
  resourcesPerCluster: number
  tasks: number
  batches: number
  /** Registry parse + planReconcile + every SendMessageBatch acknowledged, one queue. */
  totalMs: number
  /** The same again onto that queue, still holding them: a plan that finds the last undrained. */
  backlogTotalMs: number
  /** The same tasks sent 200 at a time onto a purged queue (little of moto's depth cost). */
  shallowQueueTotalMs: number
  /** Of which planReconcile alone (pure). */
  planMs: number
  tasksPerSecond: number
  shallowQueueTasksPerSecond: number
  /** Messages the queue held afterwards (must equal tasks). */
  queued: number
  targetMs: 5000
}

const SHALLOW_CHUNK = 200

/** The sends' time only: every SendMessageBatch of `tasks` acknowledged. */
async function timedSend(
  sqs: SQSClient,
  queueUrl: string,
  tasks: readonly object[],
): Promise<number> {
  const t0 = performance.now()
  await sendTasks(sqs, tasks, { queueUrl, policy: PLAN_RETRY, kind: 'reconcile' })
  return performance.now() - t0
}

/** The tasks sent SHALLOW_CHUNK at a time, each onto an emptied queue: the sends' time only. */
async function sendShallow(
  sqs: SQSClient,
  queueUrl: string,
  tasks: readonly object[],
): Promise<number> {
  let ms = 0
  for (let i = 0; i < tasks.length; i += SHALLOW_CHUNK) {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }))
    ms += await timedSend(sqs, queueUrl, tasks.slice(i, i + SHALLOW_CHUNK))
  }
  return ms
}

export async function benchPlanning(
  sqs: SQSClient,
  queueUrl: string,
  log: (line: string) => void,
): Promise<PlanFigure> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }))
  const entries = Array.from({ length: PLAN_CLUSTERS }, (_, i) => ({
    name: `plan-${String(i + 1).padStart(3, '0')}`,
    kubeconfigPath: `/nonexistent/plan-${i + 1}.kubeconfig`,
  }))
  const defaults: ResourceRef[] = PLAN_RESOURCES.map((id) => parseResourceRef(id)!)
  const t0 = performance.now()
  const clusters = parseRegistryEntries(entries, 'bench registry').map((e) =>
    fleetClusterOf(e, defaults),
  )
  const tasks = planReconcile(clusters, {}, new Date())
  const planMs = performance.now() - t0
  const { sent, batches } = await sendTasks(sqs, tasks, {
    queueUrl,
    policy: PLAN_RETRY,
    kind: 'reconcile',
  })
  const totalMs = performance.now() - t0
  const depth = await queueDepth(queueUrl, sqs)
  if (sent !== tasks.length || depth.total !== tasks.length)
    throw new Error(`planned ${tasks.length} tasks, sent ${sent}, the queue holds ${depth.total}`)
  log(`fleet planning: ${depth.total} tasks in ${batches} batches, ${Math.round(totalMs)} ms`)
  const backlogMs = planMs + (await timedSend(sqs, queueUrl, tasks))
  const backlog = await queueDepth(queueUrl, sqs)
  if (backlog.total !== 2 * tasks.length)
    throw new Error(`sent ${tasks.length} more tasks, the queue holds ${backlog.total}`)
  log(`fleet planning onto the ${depth.total} still queued: ${Math.round(backlogMs)} ms`)
  const shallowMs = planMs + (await sendShallow(sqs, queueUrl, tasks))
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }))
  log(`fleet planning, 200 at a time onto a purged queue: ${Math.round(shallowMs)} ms`)
  return {
    clusters: clusters.length,
    resourcesPerCluster: PLAN_RESOURCES.length,
    tasks: sent,
    batches,
    totalMs: Math.round(totalMs),
    planMs: Math.round(planMs * 10) / 10,
    backlogTotalMs: Math.round(backlogMs),
    shallowQueueTotalMs: Math.round(shallowMs),
    tasksPerSecond: Math.round(sent / (totalMs / 1000)),
    shallowQueueTasksPerSecond: Math.round(tasks.length / (shallowMs / 1000)),
    queued: depth.total,
    targetMs: 5000,
  }
}
