import type { Config } from '../config.js'
import { SyncError } from '../errors.js'
import { logger } from '../log.js'
import type { SyncRuntime } from '../runtime/sync-dependencies.js'
import type { Fleet, FleetCluster } from './registry.js'
import { sendTasks } from './send-tasks.js'

/** A plan's report: how many tasks went onto the queue, for which clusters. */
export interface PlanOutput {
  readonly ok: boolean
  readonly durationMs: number
  readonly planned: {
    readonly kind: 'reconcile' | 'watch'
    readonly tasks: number
    readonly clusters: readonly string[]
  }
  /** Problems that did not stop the plan (a discovery region that failed). */
  readonly problems: readonly string[]
}

/**
 * A fleet plans (docs/fleets.md#planning): two or more clusters, or FANOUT,
 * and no `inline` asked. A one-cluster deployment runs here, as before fleets.
 */
export function plans(config: Config, fleet: Fleet, inline: boolean | undefined): boolean {
  return !inline && (fleet.clusters.length > 1 || config.fleet.fanout)
}

/**
 * Sends a plan's tasks to its work queue (RECONCILE_QUEUE_URL or
 * WATCH_QUEUE_URL) and reports it, as both scheduled functions answer.
 */
export async function sendPlan(
  runtime: SyncRuntime,
  plan: {
    readonly kind: 'reconcile' | 'watch'
    readonly tasks: readonly object[]
    readonly clusters: readonly FleetCluster[]
    readonly fleet: Fleet
    readonly started: number
  },
): Promise<PlanOutput> {
  const { config } = runtime
  const { kind, clusters, fleet } = plan
  const url =
    kind === 'reconcile'
      ? queueUrl(config.fleet.reconcileQueueUrl, 'RECONCILE_QUEUE_URL')
      : queueUrl(config.fleet.watchQueueUrl, 'WATCH_QUEUE_URL')
  const { sent } = await sendTasks(runtime.sqs(), plan.tasks, {
    queueUrl: url,
    policy: config.retry,
    signal: runtime.invocation.deadline.signal,
    kind,
  })
  const output: PlanOutput = {
    ok: fleet.problems.length === 0,
    durationMs: Date.now() - plan.started,
    planned: { kind, tasks: sent, clusters: clusters.map((c) => c.name) },
    problems: fleet.problems,
  }
  logger.info(`planned ${sent} ${kind} tasks for ${clusters.length} clusters`, {
    event: `${kind}.planned`,
    ...output,
  })
  return output
}

function queueUrl(url: string | undefined, variable: string): string {
  if (!url) {
    throw new SyncError(
      `${variable} is not set: a fleet's tasks go onto the work queue (serverless.yml sets it; locally, npm run stack:up writes it to .stack/env)`,
    )
  }
  return url
}
