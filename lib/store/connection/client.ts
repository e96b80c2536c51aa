import { MongoClient, type Db, type MongoClientOptions } from 'mongodb'
import { getConfig, type Config } from '../../config.js'
import { FatalOperationError, SyncError } from '../../errors.js'
import { errorFields, logger } from '../../log.js'
import { redactUri } from '../../redact.js'
import { retryWithBackoff, sleep, type RetryPolicy } from '../../retry.js'
import { createHealthTracker, ReadyState, type ReadyStateValue } from './health.js'
import { registerUriSecrets } from './secret.js'

export { parseMongoSecret } from './secret.js'

/** The spec: "Disconnection: automatic reconnection after 1s delay". */
export const RECONNECT_DELAY_MS = 1000

/**
 * Lambda freezes a container between invocations; a socket idle across a
 * freeze may have been dropped by a NAT gateway (AWS: 350 s idle) or by the
 * server. A connection idle longer than this is closed at checkout instead of
 * failing the first operation of the next invocation.
 */
const MAX_IDLE_TIME_MS = 60_000

export interface ConnectOptions {
  /** Defaults to getConfig(). */
  readonly config?: Config
  /** A connection string resolved elsewhere (Secrets Manager); wins over setMongoUri and MONGODB_URI. */
  readonly uri?: string
  /** Connect and reconnect attempts; defaults to config.retry. */
  readonly retryPolicy?: RetryPolicy
  readonly signal?: AbortSignal
  /** Wait before re-checking a lost connection (the spec's 1 s). */
  readonly reconnectDelayMs?: number
  /** How often the driver checks the server (its default: 10 s); tests notice a loss sooner with less. */
  readonly heartbeatFrequencyMs?: number
}

export interface MongoHealth {
  connected: boolean
  readyState: ReadyStateValue
  host: string
  port: number
  dbName: string
}

// One client per container: warm invocations reuse it and its pool.
let client: MongoClient | undefined
let db: Db | undefined
let settings: { config: Config; options: ConnectOptions } | undefined
let pending: Promise<Db> | undefined
let secretUri: string | undefined
let health = createHealthTracker()

/** The connection string fetched from MONGODB_SECRET_ID (by the Lambda wiring) for later connectDB calls. */
export function setMongoUri(uri: string): void {
  registerUriSecrets(uri)
  secretUri = uri
}

function clientOptions(config: Config, options: ConnectOptions): MongoClientOptions {
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

function watchHealth(c: MongoClient): void {
  const mine = () => c === client
  c.on('serverHeartbeatSucceeded', () => mine() && health.onHeartbeatSucceeded())
  c.on('serverHeartbeatFailed', (e) => mine() && health.onHeartbeatFailed(e))
  c.on('connectionPoolCleared', (e) => mine() && health.onPoolCleared(e))
  c.on('topologyDescriptionChanged', (e) => mine() && health.onTopologyChanged(e))
  c.on('topologyClosed', () => {
    if (mine() && health.readyState !== ReadyState.disconnecting)
      health.readyState = ReadyState.disconnected
  })
}

function resolveUri(config: Config, options: ConnectOptions): string {
  const uri = options.uri ?? secretUri ?? config.mongodb.uri
  if (uri === undefined) {
    throw new SyncError(
      'MongoDB connection string missing: set MONGODB_URI, or MONGODB_SECRET_ID and resolve it',
      {
        context: { operation: 'connectDB' },
      },
    )
  }
  registerUriSecrets(uri)
  return uri
}

async function connectFresh(config: Config, options: ConnectOptions): Promise<Db> {
  const uri = resolveUri(config, options)
  health = createHealthTracker()
  health.readyState = ReadyState.connecting
  try {
    const connected = await retryWithBackoff(
      async () => {
        const c = new MongoClient(uri, clientOptions(config, options))
        try {
          await c.connect()
          // connect() may succeed lazily; a ping proves the server answers and the credentials work.
          await c.db(config.mongodb.db).command({ ping: 1 })
          return c
        } catch (error) {
          await c.close().catch(() => undefined)
          throw error
        }
      },
      'MongoDB connect',
      { policy: options.retryPolicy ?? config.retry, signal: options.signal },
    )
    client = connected
    db = connected.db(config.mongodb.db)
    settings = { config, options }
    watchHealth(connected)
    health.readyState = ReadyState.connected
    logger.info('MongoDB connected', {
      event: 'mongo.connected',
      ...describe(),
      uri: redactUri(uri),
    })
    return db
  } catch (error) {
    health.readyState = ReadyState.disconnected
    logger.error('MongoDB connect failed', { event: 'mongo.connect-failed', ...errorFields(error) })
    throw error
  }
}

/**
 * A loss was seen since the last use. The driver rebuilds its pool by itself
 * once the server answers again: wait the spec's delay, then prove it with a
 * ping (retried with backoff), instead of failing the invocation.
 */
async function reconnect(current: Db, options: ConnectOptions): Promise<Db> {
  const loss = health.loss
  const config = settings?.config ?? options.config ?? getConfig()
  const delayMs =
    options.reconnectDelayMs ?? settings?.options.reconnectDelayMs ?? RECONNECT_DELAY_MS
  logger.warn(`MongoDB reconnecting in ${delayMs}ms`, {
    event: 'mongo.reconnecting',
    reason: loss?.reason,
    delayMs,
  })
  health.readyState = ReadyState.connecting
  await sleep(delayMs, options.signal)
  await retryWithBackoff(() => current.command({ ping: 1 }), 'MongoDB reconnect', {
    policy: options.retryPolicy ?? settings?.options.retryPolicy ?? config.retry,
    signal: options.signal,
  }).catch((error: unknown) => {
    health.readyState = ReadyState.disconnected
    throw error
  })
  health.readyState = ReadyState.connected
  health.loss = undefined
  logger.info('MongoDB reconnected', {
    event: 'mongo.reconnected',
    downMs: loss ? Date.now() - loss.at.getTime() : undefined,
  })
  return current
}

/**
 * With ENABLE_MONGO_RECONNECT=false a lost connection fails the invocation
 * that meets it, with an error that says why. The client is dropped, so the
 * next invocation starts with a fresh connect rather than inheriting the loss
 * for the life of the container.
 */
function dropLostClient(reason: string): FatalOperationError {
  const lostClient = client
  client = undefined
  db = undefined
  health = createHealthTracker()
  void lostClient?.close().catch(() => undefined)
  return new FatalOperationError(
    `MongoDB connection was lost (${reason}) and reconnect is disabled (ENABLE_MONGO_RECONNECT=false)`,
    { context: { operation: 'connectDB' } },
  )
}

/**
 * The database (MONGODB_DB) on the container's one client: created on first
 * use with retry and backoff (authentication failures are fatal at once),
 * reused by warm invocations; concurrent first calls share one connect.
 */
export function connectDB(options: ConnectOptions = {}): Promise<Db> {
  if (pending) return pending
  if (client && db && health.loss === undefined) return Promise.resolve(db)
  const config = options.config ?? settings?.config ?? getConfig()
  let work: Promise<Db>
  if (client && db && health.loss) {
    if (!config.features.mongoReconnect) return Promise.reject(dropLostClient(health.loss.reason))
    work = reconnect(db, options)
  } else {
    work = connectFresh(config, options)
  }
  pending = work.finally(() => {
    pending = undefined
  })
  return pending
}

/** True while the driver has a reachable server and no loss is waiting to be dealt with. */
export function isMongoConnected(): boolean {
  return health.readyState === ReadyState.connected && client !== undefined
}

function describe(): Omit<MongoHealth, 'connected' | 'readyState'> {
  const address = client?.options.hosts[0]
  return {
    host: address?.host ?? address?.socketPath ?? '',
    port: address?.port ?? 0,
    dbName: db?.databaseName ?? settings?.config.mongodb.db ?? '',
  }
}

/** The spec's health shape. Host and port only: never the connection string. */
export function getMongoHealth(): MongoHealth {
  const readyState = client
    ? health.readyState
    : health.readyState === ReadyState.connecting
      ? 2
      : 0
  return { connected: isMongoConnected(), readyState, ...describe() }
}

/** Closes the client (end of tests, or a deliberate reset); the next connectDB connects afresh. */
export async function disconnectDB(): Promise<void> {
  await pending?.catch(() => undefined)
  const closing = client
  if (!closing) return
  health.readyState = ReadyState.disconnecting
  try {
    await closing.close()
  } finally {
    client = undefined
    db = undefined
    settings = undefined
    health = createHealthTracker()
    logger.info('MongoDB disconnected', { event: 'mongo.disconnected', reason: 'disconnectDB' })
  }
}
