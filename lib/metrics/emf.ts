import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logger } from '../log.js'
import type { Breakers } from '../resilience/circuit-breaker.js'
import { clusterMetricValues, type MetricValue } from './metric-values.js'

/*
 * CloudWatch metrics as EMF lines on stdout (Powertools Metrics): CloudWatch
 * Logs turns them into metrics, with no API call and no extra permission.
 * One line per (cluster, resource) and one per cluster.
 */

const DEFAULT_METRICS_NAMESPACE = 'KubeMongoSync'
const DEFAULT_SERVICE_NAME = 'kube-mongo-sync'

function publish(dimensions: Record<string, string>, values: readonly MetricValue[]): void {
  if (values.length === 0) return
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    defaultDimensions: dimensions,
  })
  for (const { name, unit, value } of values) metrics.addMetric(name, MetricUnit[unit], value)
  metrics.publishStoredMetrics()
}

export interface InvocationMetrics {
  readonly resources: ReadonlyArray<{
    /** Its cluster, when the run's report names one (a fleet's reports mix clusters). */
    readonly cluster?: string
    readonly resource: string
    readonly status: string
    readonly lastCompleteSyncAt?: string | null
    readonly values: readonly MetricValue[]
  }>
}

/**
 * Publishes an invocation's metrics, and the container's breaker opens
 * counted since the last publication. Never throws: metrics must not fail a
 * sync.
 */
export function publishInvocationMetrics(
  metrics: InvocationMetrics | undefined,
  cluster: string,
  breakers: Pick<Breakers, 'takeOpens'>,
  now = new Date(),
): void {
  try {
    for (const r of metrics?.resources ?? []) publish({ cluster, resource: r.resource }, r.values)
    const opens = breakers.takeOpens()
    publish(
      { cluster },
      clusterMetricValues(metrics?.resources ?? [], opens.kubernetes + opens.mongodb, now),
    )
  } catch (error) {
    logger.warn('could not publish metrics', { event: 'metrics.failed', error: String(error) })
  }
}

/** What publishing needs of the container: MongoDB's breaker, and each cluster's API server breaker. */
export interface BreakerSource {
  readonly breakers: Pick<Breakers, 'takeOpens'>
  clusterBreakers(cluster: string): Pick<Breakers, 'takeOpens'>
}

/**
 * Publishes a run's metrics per cluster (a fleet's run mixes clusters; one
 * cluster's reports have its name). Each cluster's breaker opens are its API
 * server's plus MongoDB's, which every cluster of the run depended on.
 */
export function publishRunMetrics(
  metrics: InvocationMetrics | undefined,
  defaultCluster: string,
  container: BreakerSource,
  now = new Date(),
): void {
  const byCluster = new Map<string, InvocationMetrics['resources'][number][]>()
  for (const r of metrics?.resources ?? []) {
    const cluster = r.cluster ?? defaultCluster
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), r])
  }
  if (byCluster.size === 0) byCluster.set(defaultCluster, [])
  const mongoOpens = container.breakers.takeOpens()
  for (const [cluster, resources] of byCluster) {
    const kubeOpens = container.clusterBreakers(cluster).takeOpens()
    const breakers = {
      takeOpens: () => ({ kubernetes: kubeOpens.kubernetes, mongodb: mongoOpens.mongodb }),
    }
    publishInvocationMetrics({ resources }, cluster, breakers, now)
  }
}

/** A worker's task outcomes (docs/fleets.md#health-and-metrics): TasksDone, TasksFailed, TasksDropped, per queue. */
export function publishTaskOutcome(queue: string, outcome: 'done' | 'failed' | 'dropped'): void {
  try {
    const name = { done: 'TasksDone', failed: 'TasksFailed', dropped: 'TasksDropped' }[outcome]
    publish({ queue }, [{ name, unit: 'Count', value: 1 }])
  } catch (error) {
    logger.warn('could not publish metrics', { event: 'metrics.failed', error: String(error) })
  }
}
