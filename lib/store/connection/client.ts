import { MongoClient, type Db } from 'mongodb'
import { clientOptions } from './client-options.js'
import type { Config } from '../../config.js'
import { notTransient } from '../../classify.js'
import { FatalOperationError, SyncError } from '../../errors.js'
import { enforceSecureTransport } from '../../insecure-transport.js'
import { errorFields, logger } from '../../log.js'
import { redactUri } from '../../redact.js'
import { retryWithBackoff, sleep, type RetryPolicy } from '../../retry.js'
import { createHealthTracker, ReadyState, type ReadyStateValue } from './health.js'
import { registerUriSecrets } from './secret.js'
import { insecureMongoTransport, mongoUriShape } from './transport.js'

/** The fault-tolerance spec: "Disconnection: automatic reconnection after 1s delay". */
const RECONNECT_DELAY_MS = 1000

export interface ConnectOptions {
  /** The connection string (MONGODB_URI, or resolved from MONGODB_SECRET_ID); default config.mongodb.uri. */
  readonly uri?: string
  /** Connect and reconnect attempts; defaults to config.retry. */
  readonly retryPolicy?: RetryPolicy
  readonly signal?: AbortSignal
  /** Wait before re-checking a lost connection (1 s, docs/resilience.md#the-fault-tolerance-contract). */
  readonly reconnectDelayMs?: number
  /** How often the driver checks the server (its default: 10 s); tests notice a loss sooner with less. */
  readonly heartbeatFrequencyMs?: number
}

/** The fault-tolerance spec's getMongoHealth() shape. Host and port only: never the connection string. */
export interface MongoHealth {
  connected: boolean
  readyState: ReadyStateValue
  host: string
  port: number
  dbName: string
}

/**
 * One MongoDB client and what is known of its health: a warm Lambda
 * container keeps one (lib/runtime/container.ts) and its invocations reuse the
 * pool. Method names are the fault-tolerance spec's MongoDB API.
 */
export class MongoConnection {
  readonly #config: Config
  #client: MongoClient | undefined
  #db: Db | undefined
  #options: ConnectOptions = {}
  #pending: Promise<Db> | undefined
  #health = createHealthTracker()

  constructor(config: Config) {
    this.#config = config
  }

  /**
   * The database (MONGODB_DB) on this connection's one client: created on
   * first use with retry and backoff (authentication failures are fatal at
   * once), then reused; concurrent first calls share one connect.
   */
  connectDB(options: ConnectOptions = {}): Promise<Db> {
    if (this.#pending) return this.#pending
    const { loss } = this.#health
    if (this.#client && this.#db && loss === undefined) return Promise.resolve(this.#db)
    let work: Promise<Db>
    if (this.#client && this.#db && loss) {
      if (!this.#config.features.mongoReconnect)
        return Promise.reject(this.#dropLostClient(loss.reason))
      work = this.#reconnect(this.#db, options)
    } else {
      work = this.#connectFresh(options)
    }
    this.#pending = work.finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  /** True while the driver has a reachable server and no loss is waiting to be dealt with. */
  isMongoConnected(): boolean {
    return this.#health.readyState === ReadyState.connected && this.#client !== undefined
  }

  getMongoHealth(): MongoHealth {
    const state = this.#health.readyState
    const readyState = this.#client ? state : state === ReadyState.connecting ? 2 : 0
    return { connected: this.isMongoConnected(), readyState, ...this.#describe() }
  }

  /** Closes the client (end of a local run or a test); the next connectDB connects afresh. */
  async disconnectDB(): Promise<void> {
    await this.#pending?.catch(() => undefined)
    const closing = this.#client
    if (!closing) return
    this.#health.readyState = ReadyState.disconnecting
    try {
      await closing.close()
    } finally {
      this.#client = undefined
      this.#db = undefined
      this.#health = createHealthTracker()
      logger.info('MongoDB disconnected', { event: 'mongo.disconnected', reason: 'disconnectDB' })
    }
  }

  #watchHealth(c: MongoClient): void {
    const mine = () => c === this.#client
    c.on('serverHeartbeatSucceeded', () => mine() && this.#health.onHeartbeatSucceeded())
    c.on('serverHeartbeatFailed', (e) => mine() && this.#health.onHeartbeatFailed(e))
    c.on('connectionPoolCleared', (e) => mine() && this.#health.onPoolCleared(e))
    c.on('topologyDescriptionChanged', (e) => mine() && this.#health.onTopologyChanged(e))
    c.on('topologyClosed', () => {
      if (mine() && this.#health.readyState !== ReadyState.disconnecting)
        this.#health.readyState = ReadyState.disconnected
    })
  }

  #resolveUri(options: ConnectOptions): string {
    const uri = options.uri ?? this.#config.mongodb.uri
    if (uri === undefined) {
      throw new SyncError(
        'MongoDB connection string missing: set MONGODB_URI, or MONGODB_SECRET_ID and resolve it',
        { context: { operation: 'connectDB' } },
      )
    }
    registerUriSecrets(uri)
    return uri
  }

  async #connectFresh(options: ConnectOptions): Promise<Db> {
    const config = this.#config
    const uri = this.#resolveUri(options)
    const { hosts } = mongoUriShape(uri)
    enforceSecureTransport(
      'mongodb',
      `MongoDB at ${hosts.join(',')}`,
      insecureMongoTransport(uri),
      config.allowInsecureTls,
    )
    this.#health = createHealthTracker()
    this.#health.readyState = ReadyState.connecting
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
        {
          policy: options.retryPolicy ?? config.retry,
          // Network errors only: code 18 and a bad connection string stop at once.
          isFatal: notTransient,
          signal: options.signal,
        },
      )
      this.#client = connected
      this.#db = connected.db(config.mongodb.db)
      this.#options = options
      this.#watchHealth(connected)
      this.#health.readyState = ReadyState.connected
      logger.info('MongoDB connected', {
        event: 'mongo.connected',
        ...this.#describe(),
        uri: redactUri(uri),
      })
      return this.#db
    } catch (error) {
      this.#health.readyState = ReadyState.disconnected
      logger.error('MongoDB connect failed', {
        event: 'mongo.connect-failed',
        ...errorFields(error),
      })
      throw error
    }
  }

  /**
   * A loss was seen since the last use. The driver rebuilds its pool by itself
   * once the server answers again: wait RECONNECT_DELAY_MS, then prove it with a
   * ping (retried with backoff), instead of failing the invocation. Logged in
   * the fault-tolerance contract's reconnection words, as a watch's are:
   * "Reconnecting in N ms...", "Reconnecting..." when the attempt starts,
   * "Reconnected successfully".
   */
  async #reconnect(current: Db, options: ConnectOptions): Promise<Db> {
    const health = this.#health
    const loss = health.loss
    const delayMs = options.reconnectDelayMs ?? this.#options.reconnectDelayMs ?? RECONNECT_DELAY_MS
    logger.warn(`MongoDB: Reconnecting in ${delayMs}ms...`, {
      event: 'mongo.reconnecting',
      reason: loss?.reason,
      delayMs,
    })
    health.readyState = ReadyState.connecting
    await sleep(delayMs, options.signal)
    logger.info('MongoDB: Reconnecting...', { event: 'mongo.reconnect-started' })
    const policy = options.retryPolicy ?? this.#options.retryPolicy ?? this.#config.retry
    await retryWithBackoff(() => current.command({ ping: 1 }), 'MongoDB reconnect', {
      policy,
      isFatal: notTransient,
      signal: options.signal,
    }).catch((error: unknown) => {
      health.readyState = ReadyState.disconnected
      throw error
    })
    health.readyState = ReadyState.connected
    health.loss = undefined
    logger.info('MongoDB: Reconnected successfully', {
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
  #dropLostClient(reason: string): FatalOperationError {
    const lostClient = this.#client
    this.#client = undefined
    this.#db = undefined
    this.#health = createHealthTracker()
    void lostClient?.close().catch(() => undefined)
    return new FatalOperationError(
      `MongoDB connection was lost (${reason}) and reconnect is disabled (ENABLE_MONGO_RECONNECT=false)`,
      { context: { operation: 'connectDB' } },
    )
  }

  #describe(): Omit<MongoHealth, 'connected' | 'readyState'> {
    const address = this.#client?.options.hosts[0]
    return {
      host: address?.host ?? address?.socketPath ?? '',
      port: address?.port ?? 0,
      dbName: this.#db?.databaseName ?? this.#config.mongodb.db,
    }
  }
}
