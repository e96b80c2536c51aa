import { MongoClient } from 'mongodb'

import type { StackEnv } from '../stack/env-file.js'
import { ensureWorkQueues, purgeQueues, stackSqsClient } from '../stack/queues.js'
import { captureWorkers } from './fleet-capture.js'
import { coldStartFigures } from './fleet-cold-start.js'
import { benchLeases, type LeaseFigure } from './fleet-leases.js'
import { benchOverhead, type OverheadFigure } from './fleet-overhead.js'
import { benchPays, type PaysFigure } from './fleet-pays.js'
import { benchPlanning, type PlanFigure } from './fleet-plan.js'
import { benchThroughput, type ThroughputFigure } from './fleet-throughput.js'
import { FLEET_DB, loadFleetFunctions } from './fleet-workers.js'

/*
 * `npm run bench -- --fleet` (issue 18, docs/benchmarks.md): planning a
 * 200-cluster fleet, the per-task overhead on the local drain, a
 * three-cluster fleet through the queue against inline, one cluster's
 * resync beside ten others, one lease beside a fleet's, and the workers'
 * cold start. Needs the stack
 * with three clusters (`npm run stack:up -- --clusters 3`).
 */

export interface FleetFigure {
  planning: PlanFigure
  throughput: ThroughputFigure
  overhead: OverheadFigure
  paysForItself: PaysFigure
  leases: LeaseFigure
  coldStart: unknown
}

/** The bench's own queues: no worker of a test or the demo reads them. */
const QUEUE_PREFIX = 'kmsbench-fleet'

export async function benchFleet(env: StackEnv, log: (line: string) => void): Promise<FleetFigure> {
  if (!env.KUBECONFIG_3)
    throw new Error('--fleet needs three clusters: npm run stack:up -- --clusters 3')
  const sqs = stackSqsClient(env.AWS_ENDPOINT_URL_SQS!)
  const queues = await ensureWorkQueues({
    prefix: QUEUE_PREFIX,
    visibilityTimeoutSeconds: 5400,
    client: sqs,
  })
  await purgeQueues([queues.reconcile.url, queues.reconcile.dlqUrl], sqs)
  const mongo = await new MongoClient(env.MONGODB_URI!).connect()
  const capture = captureWorkers()
  try {
    const planning = await benchPlanning(sqs, queues.watch.url, log)
    const fns = await loadFleetFunctions(env, queues.reconcile.url, sqs)
    const db = mongo.db(FLEET_DB)
    const throughput = await benchThroughput(env, db, fns, log)
    const overhead = await benchOverhead(env, sqs, fns, capture, log)
    await db.dropDatabase()
    const paysForItself = await benchPays(env, mongo, log)
    const leases = await benchLeases(mongo, log)
    const coldStart = await coldStartFigures(log)
    return { planning, throughput, overhead, paysForItself, leases, coldStart }
  } finally {
    await mongo.close()
    const { closeContainer } = await import('../../lib/runtime/lambda-handler.js')
    await closeContainer().catch(() => undefined)
    capture.restore()
    for (const line of capture.errors.slice(0, 20)) log(`worker error: ${line}`)
  }
}
