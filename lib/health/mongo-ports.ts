import type { Config } from '../config.js'
import type { RetryPolicy } from '../retry.js'
import type { Invocation } from '../runtime/invocation.js'
import { mongoUri } from '../runtime/fetched-secrets.js'
import { readFleetStates } from './fleet-states.js'
import type { HealthPorts } from './report.js'

/**
 * One attempt, no backoff: the caller of a health endpoint wants to know now.
 * The next request is the retry.
 */
const ONE_ATTEMPT: RetryPolicy = {
  maxAttempts: 1,
  initialDelayMs: 0,
  maxDelayMs: 0,
  backoffMultiplier: 1,
}

/**
 * The MongoDB settings of the health function's own client: every timeout is
 * HEALTH_MONGODB_TIMEOUT_MS, so an unreachable server costs seconds, not the
 * 30 s a sync run patiently waits; no idle pool to keep warm.
 */
export function quickMongoConfig(config: Config): Config {
  const timeoutMs = config.health.mongoTimeoutMs
  return {
    ...config,
    mongodb: {
      ...config.mongodb,
      connectTimeoutMs: timeoutMs,
      serverSelectionTimeoutMs: timeoutMs,
      socketTimeoutMs: timeoutMs,
      poolMin: 0,
    },
  }
}

/**
 * The health function's dependencies: the MongoDB side only. No Kubernetes
 * client and no Kubernetes credentials; the connection string is resolved
 * here (so a missing secret fails plainly) but connecting waits for the check,
 * which turns an unreachable server into a 503 that says why.
 */
export function healthPorts(
  invocation: Invocation,
): Promise<HealthPorts & { readonly config: Config }> {
  const { config, secrets, deadline, container } = invocation
  const uri = mongoUri(config, secrets)
  // The container's client was built with quickMongoConfig (functions/health.ts).
  const connection = container.mongo
  return Promise.resolve({
    config,
    readFleet: async (configured) => {
      const db = await connection.connectDB({
        uri,
        retryPolicy: ONE_ATTEMPT,
        signal: deadline.signal,
      })
      return readFleetStates(db, configured)
    },
    mongoHealth: () => connection.getMongoHealth(),
  })
}
