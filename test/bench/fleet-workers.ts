import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Context } from 'aws-lambda'

import { drainQueues } from '../../scripts/drain/drain-queues.js'
import { lambdaContext } from '../../scripts/drain/lambda-context.js'
import type { DrainSummary, SqsHandler } from '../../scripts/drain/types.js'
import type { StackEnv } from '../stack/env-file.js'
import { BENCH_RESOURCE, tunedSettings } from './configs.js'

/*
 * The real functions, in the bench's process: functions/reconcile.ts (plan,
 * or `inline`) and functions/reconcileWorker.ts under scripts/drain's event
 * source. The configuration is read once per process (lib/config.ts
 * getConfig), so the environment is set before the handlers are imported,
 * and every fleet figure that runs them shares it.
 */

export const FLEET_DB = 'kmsbench_fleet'
export const FLEET_CLUSTERS = ['fleet-1', 'fleet-2', 'fleet-3'] as const
/** The worker's and reconcile function's timeout in serverless.yml (15 min). */
const TIMEOUT_S = 900

export interface FleetFunctions {
  readonly queueUrl: string
  /** functions/reconcile.ts's handler with `event`: a plan (`{}`) or an inline run. */
  reconcile(event: object): Promise<Record<string, unknown>>
  readonly worker: SqsHandler
  drain(options: {
    concurrency: number
    handler?: SqsHandler
    waitTimeSeconds?: number
  }): Promise<DrainSummary>
}

function fleetEnvironment(env: StackEnv, queueUrl: string): Record<string, string> {
  const clusters = FLEET_CLUSTERS.map((name, i) => {
    const path = env[`KUBECONFIG_${i + 1}`]
    if (!path) throw new Error(`stack env lacks KUBECONFIG_${i + 1}: run stack:up -- --clusters 3`)
    return { name, kubeconfigPath: path }
  })
  return {
    ...env,
    ...tunedSettings,
    MONGODB_DB: FLEET_DB,
    CLUSTERS: JSON.stringify(clusters),
    SYNC_RESOURCES: BENCH_RESOURCE,
    RECONCILE_QUEUE_URL: queueUrl,
    // A failed task comes back after 1 s, not 30 s: a failure shows in the bench, it does not stall it.
    WORKER_RETRY_DELAY_SECONDS: '1',
    // task.started lines are read (fleet-capture.ts) and never printed.
    POWERTOOLS_LOG_LEVEL: 'INFO',
  }
}

function context(name: string): Context {
  return lambdaContext({
    functionName: `kube-mongo-sync-bench-${name}`,
    region: 'us-east-1',
    account: '123456789012',
    memoryLimitInMB: 1024,
    timeoutSeconds: TIMEOUT_S,
  })
}

export async function loadFleetFunctions(
  env: StackEnv,
  queueUrl: string,
  sqs: SQSClient,
): Promise<FleetFunctions> {
  Object.assign(process.env, fleetEnvironment(env, queueUrl))
  const reconcileModule = await import('../../functions/reconcile.js')
  const workerModule = await import('../../functions/reconcileWorker.js')
  const reconcileHandler = reconcileModule.handler as unknown as (
    event: unknown,
    context: Context,
  ) => Promise<Record<string, unknown>>
  const worker = workerModule.handler as unknown as SqsHandler
  return {
    queueUrl,
    reconcile: (event) => reconcileHandler(event, context('reconcile')),
    worker,
    drain: ({ concurrency, handler, waitTimeSeconds }) =>
      drainQueues({
        queues: [
          {
            name: 'reconcile',
            url: queueUrl,
            handler: handler ?? worker,
            timeoutSeconds: TIMEOUT_S,
          },
        ],
        concurrency,
        sqs,
        maxSeconds: 600,
        ...(waitTimeSeconds !== undefined ? { waitTimeSeconds } : {}),
      }),
  }
}
