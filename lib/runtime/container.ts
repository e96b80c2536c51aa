import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { Config } from '../config.js'
import { Breakers } from '../resilience/circuit-breaker.js'
import { MongoConnection } from '../store/connection/client.js'
import { createPacing, type Pacing } from '../store/writes/adaptive-pacing.js'

/**
 * What a warm Lambda container keeps between invocations, in one object: the
 * MongoDB client (and its pool), the circuit breakers (a warm container
 * remembers an outage), the adaptive pacing of bulk writes (it describes the
 * server, not a run), assumed-role credentials (renewed, not re-assumed per
 * task), and whether the configuration was logged. The Lambda adapter builds
 * it once per container; everything below receives what it needs from it, so
 * a test builds a fresh one instead of resetting modules.
 */
export interface Container {
  readonly mongo: MongoConnection
  /** MongoDB's breaker (one database for every cluster). */
  readonly breakers: Breakers
  /**
   * Each cluster's API server breaker: one cluster's outage opens only its own
   * (docs/design.md#invariant-8-fleets).
   */
  clusterBreakers(cluster: string): Breakers
  readonly roles: Map<string, AwsCredentialIdentityProvider>
  readonly pacing: Pacing
  /** The configuration summary is logged once per container, at its first invocation. */
  configLogged: boolean
}

export function createContainer(config: Config): Container {
  const perCluster = new Map<string, Breakers>()
  return {
    mongo: new MongoConnection(config),
    breakers: new Breakers(config),
    clusterBreakers: (cluster) => {
      let breakers = perCluster.get(cluster)
      if (!breakers) {
        breakers = new Breakers(config)
        perCluster.set(cluster, breakers)
      }
      return breakers
    },
    roles: new Map(),
    pacing: createPacing(config),
    configLogged: false,
  }
}
