import type { Config } from '../config.js'
import { Breakers } from '../resilience/circuit-breaker.js'
import { MongoConnection } from '../store/connection/client.js'
import { createPacing, type Pacing } from '../store/writes/adaptive-pacing.js'

/**
 * What a warm Lambda container keeps between invocations, in one object: the
 * MongoDB client (and its pool), the circuit breakers (a warm container
 * remembers an outage), the adaptive pacing of bulk writes (it describes the
 * server, not a run), and whether the configuration was logged. The Lambda
 * adapter builds it once per container; everything below receives what it
 * needs from it, so a test builds a fresh one instead of resetting modules.
 */
export interface Container {
  readonly mongo: MongoConnection
  readonly breakers: Breakers
  readonly pacing: Pacing
  /** The configuration summary is logged once per container, at its first invocation. */
  configLogged: boolean
}

export function createContainer(config: Config): Container {
  return {
    mongo: new MongoConnection(config),
    breakers: new Breakers(config),
    pacing: createPacing(config),
    configLogged: false,
  }
}
