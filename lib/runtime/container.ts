import type { Config } from '../config.js'
import { MongoConnection } from '../store/connection/client.js'

/**
 * What a warm Lambda container keeps between invocations, in one object: the
 * MongoDB client (and its pool), and whether the configuration was logged.
 * The Lambda adapter builds it once per container; everything below receives
 * what it needs from it, so a test builds a fresh one instead of resetting
 * module state.
 */
export interface Container {
  readonly mongo: MongoConnection
  /** The configuration summary is logged once per container, at its first invocation. */
  configLogged: boolean
}

export function createContainer(config: Config): Container {
  return { mongo: new MongoConnection(config), configLogged: false }
}
