import type { MongoClientOptions } from 'mongodb'
import type { Config } from '../../config.js'

/**
 * Lambda freezes a container between invocations; a socket idle across a
 * freeze may have been dropped by a NAT gateway (AWS: 350 s idle) or by the
 * server. A connection idle longer than this is closed at checkout instead of
 * failing the first operation of the next invocation.
 */
const MAX_IDLE_TIME_MS = 60_000

/** The driver's settings for our one client, from the configuration (MONGODB_*, MONGO_POOL_*). */
export function clientOptions(
  config: Config,
  options: { readonly heartbeatFrequencyMs?: number },
): MongoClientOptions {
  const m = config.mongodb
  return {
    appName: 'kube-mongo-sync',
    maxPoolSize: m.poolMax,
    minPoolSize: m.poolMin,
    maxIdleTimeMS: MAX_IDLE_TIME_MS,
    connectTimeoutMS: m.connectTimeoutMs,
    socketTimeoutMS: m.socketTimeoutMs,
    serverSelectionTimeoutMS: m.serverSelectionTimeoutMs,
    // The driver retries one failed read or write once, transparently; our
    // writes are idempotent by _id, so a repeat is harmless.
    retryWrites: true,
    retryReads: true,
    ...(options.heartbeatFrequencyMs === undefined
      ? {}
      : { heartbeatFrequencyMS: options.heartbeatFrequencyMs }),
  }
}
