import { clearCache } from '@middy/util'
import { MongoClient } from 'mongodb'
import { drainQueues } from '../drain/drain-queues.js'
import { summaryLines } from '../drain/report.js'
import type { InvocationResult, SqsHandler } from '../drain/types.js'
import type { SQSEvent } from 'aws-lambda'
import type { StackEnv } from '../../test/stack/env-file.js'
import { purgeQueues } from '../../test/stack/queues.js'
import { seed } from '../../test/stack/seed.js'
import { invokeLocal } from './invoke-local.js'
import { say, table } from './print.js'

/*
 * The demo's fleet chapter (docs/fleets.md): the stack's three API servers as
 * one registry, the scheduled reconcile planning one task per (cluster,
 * resource) onto the stack's work queue, and the reconcile workers draining
 * it as Lambda's SQS event source would (scripts/drain, in this process,
 * with functions/reconcileWorker.ts), three at a time.
 */

const FLEET_DB = 'kube_inventory_fleet_demo'
const COLLECTIONS = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  deployments: 'deployments.apps',
  widgets: 'widgets.example.com',
} as const

function registry(stack: StackEnv): Array<Record<string, unknown>> {
  const path = (i: number) => {
    const value = stack[`KUBECONFIG_${i}`]
    if (!value)
      throw new Error(`the stack has no KUBECONFIG_${i}: npm run stack:up -- --clusters 3`)
    return value
  }
  return [
    { name: 'eu-prod', kubeconfigPath: path(1) },
    { name: 'us-prod', kubeconfigPath: path(2) },
    // A cluster's own resources override SYNC_RESOURCES: this one syncs two.
    {
      name: 'ap-dev',
      kubeconfigPath: path(3),
      resources: ['v1/configmaps', 'apps/v1/deployments'],
    },
  ]
}

async function seedOthers(stack: StackEnv): Promise<void> {
  const [us, ap] = await Promise.all([
    seed({
      objects: 600,
      namespacePrefix: 'shop',
      perNamespace: 200,
      kubeconfig: stack.KUBECONFIG_2!,
    }),
    seed({
      objects: 300,
      namespacePrefix: 'lab',
      perNamespace: 150,
      kubeconfig: stack.KUBECONFIG_3!,
    }),
  ])
  say(`us-prod (cluster 2): ${JSON.stringify(us.counts)}`)
  say(`ap-dev  (cluster 3): ${JSON.stringify(ap.counts)}`)
}

async function perClusterTable(stack: StackEnv, names: string[]): Promise<void> {
  const mongo = await new MongoClient(stack.MONGODB_URI!).connect()
  try {
    const db = mongo.db(FLEET_DB)
    const rows = []
    for (const cluster of names) {
      const row: Record<string, unknown> = { cluster }
      for (const [column, collection] of Object.entries(COLLECTIONS))
        row[column] = await db.collection(collection).countDocuments({ cluster })
      rows.push(row)
    }
    say(table(rows, ['cluster', ...Object.keys(COLLECTIONS)]))
    const fleet = await db.collection('sync_fleet').findOne({ _id: 'registry' as never })
    say(`\nsync_fleet "registry" (what health reads): ${JSON.stringify(fleet?.clusters)}`)
  } finally {
    await mongo.close()
  }
}

/** What each message asks, by message id: the drain's lines name tasks by their body. */
const tasks = new Map<string, string>()

function remember(event: SQSEvent): void {
  for (const record of event.Records) {
    const task = JSON.parse(record.body) as { cluster?: { name?: string }; resource?: string }
    tasks.set(
      record.messageId,
      `${String(task.cluster?.name).padEnd(8)} ${String(task.resource).padEnd(24)}`,
    )
  }
}

/** One line per task: its cluster and resource, how it ended, how long its invocation took. */
function taskLine(result: InvocationResult): string {
  return result.records
    .map((record) => {
      const outcome = record.failed ? 'failed' : 'ok'
      const task = tasks.get(record.messageId) ?? record.task
      return `  ${outcome.padEnd(6)} ${task} ${(result.durationMs / 1000).toFixed(2)} s`
    })
    .join('\n')
}

async function resetFleetDb(uri: string): Promise<void> {
  const mongo = await new MongoClient(uri).connect()
  await mongo
    .db(FLEET_DB)
    .dropDatabase()
    .finally(() => mongo.close())
}

/** Runs the chapter; `env` is the demo's function environment (SYNC_RESOURCES, ...). */
export async function fleetChapter(stack: StackEnv, env: NodeJS.ProcessEnv): Promise<void> {
  const queueUrl = stack.RECONCILE_QUEUE_URL
  if (!queueUrl) throw new Error('the stack wrote no RECONCILE_QUEUE_URL')
  await seedOthers(stack)
  const clusters = registry(stack)
  const fleetEnv: NodeJS.ProcessEnv = {
    ...env,
    MONGODB_DB: FLEET_DB,
    CLUSTERS: JSON.stringify(clusters),
    RECONCILE_QUEUE_URL: queueUrl,
    WORKER_RETRY_DELAY_SECONDS: '5',
    // The workers' EMF metric lines would bury the drain's; CloudWatch reads them when deployed.
    POWERTOOLS_METRICS_DISABLED: 'true',
  }
  say(`\nCLUSTERS=${JSON.stringify(clusters, null, 1).replaceAll('\n', '')}`)
  await resetFleetDb(stack.MONGODB_URI!)
  await purgeQueues([queueUrl, stack.RECONCILE_DLQ_URL!].filter(Boolean))

  say('\nThe scheduled reconcile plans (npx serverless invoke local -f reconcile --data {}):')
  const plan = await invokeLocal('reconcile', {}, fleetEnv)
  say(`  ${JSON.stringify(plan.planned)} in ${String(plan.durationMs)} ms`)

  say('\nThe reconcile workers drain the queue, 3 at a time (npm run drain -- --concurrency 3):')
  // The configuration is read once per process, when the worker's module loads: set it first.
  Object.assign(process.env, fleetEnv)
  const worker = (await import('../../functions/reconcileWorker.js'))
    .handler as unknown as SqsHandler
  try {
    const summary = await drainQueues({
      queues: [
        {
          name: 'reconcile',
          url: queueUrl,
          timeoutSeconds: 900,
          handler: (event, context) => {
            remember(event)
            return worker(event, context)
          },
        },
      ],
      concurrency: 3,
      maxSeconds: 300,
      onInvocation: (result) => say(taskLine(result)),
    })
    say(summaryLines(summary, false))
  } finally {
    // The workers keep their MongoDB client for warm invocations, as in Lambda; the demo ends here.
    // Their secrets cache keeps a refresh timer too: both would keep the demo's process alive.
    const { closeContainer } = await import('../../lib/runtime/lambda-handler.js')
    await closeContainer().catch(() => undefined)
    clearCache()
  }
  say('\nOne inventory, every document keyed by its cluster:')
  await perClusterTable(
    stack,
    clusters.map((c) => String(c.name)),
  )
}
