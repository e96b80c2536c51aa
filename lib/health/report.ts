import type { Config } from '../config.js'
import { messageOf } from '../errors.js'
import type { MongoHealth } from '../store/connection/client.js'
import {
  assessResource,
  problemsOf,
  unknownResource,
  type FreshnessThresholds,
  type ResourceHealth,
  type StateFields,
} from './freshness.js'
import { safeText } from './safe-text.js'

/** The body of GET /health. */
export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy'
  readonly checkedAt: string
  readonly cluster: string
  /** The fault-tolerance contract's getMongoHealth(), plus why MongoDB could not be read (when it could not). */
  readonly mongo: MongoHealth & { readonly error?: string }
  readonly thresholds: FreshnessThresholds
  /** One sentence per failed check, empty when healthy. */
  readonly problems: readonly string[]
  readonly resources: readonly ResourceHealth[]
}

/** What the check reads; the Lambda wiring gives it MongoDB, unit tests give it fakes. */
export interface HealthPorts {
  /** `sync_state` by resource id; rejects when MongoDB cannot be reached. */
  readonly readStates: () => Promise<ReadonlyMap<string, StateFields>>
  readonly mongoHealth: () => MongoHealth
  readonly now?: () => Date
}

/**
 * Healthy when MongoDB answered and every configured resource of this cluster
 * is fresh. A failed read is an answer too (unhealthy, saying why), never a
 * thrown error: a health endpoint that fails cannot say what is wrong.
 */
export async function checkHealth(config: Config, ports: HealthPorts): Promise<HealthReport> {
  const thresholds: FreshnessThresholds = {
    maxSyncAgeSeconds: config.health.maxSyncAgeSeconds,
    maxWatchAgeSeconds: config.health.maxWatchAgeSeconds,
  }
  const ids = config.resources.map((ref) => ref.id)
  let resources: ResourceHealth[]
  let error: string | undefined
  const clock = ports.now ?? (() => new Date())
  let now = clock()
  try {
    const states = await ports.readStates()
    // Ages from when the state was read, not from before a slow connect.
    now = clock()
    resources = ids.map((id) =>
      assessResource(id, states.get(id) ?? null, now, thresholds, safeText),
    )
  } catch (e) {
    error = safeText(messageOf(e))
    resources = ids.map(unknownResource)
  }
  const mongo = ports.mongoHealth()
  const mongoOk = error === undefined && mongo.connected
  const healthy = mongoOk && resources.every((r) => r.healthy)
  const problems = problemsOf(resources, thresholds)
  if (error !== undefined) problems.unshift(`MongoDB: ${error}`)
  else if (!mongo.connected) problems.unshift('MongoDB: not connected')
  return {
    status: healthy ? 'healthy' : 'unhealthy',
    checkedAt: now.toISOString(),
    cluster: config.clusterName,
    mongo: error === undefined ? mongo : { ...mongo, error },
    thresholds,
    problems,
    resources,
  }
}
