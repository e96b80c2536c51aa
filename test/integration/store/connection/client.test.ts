import { afterEach, describe, expect, it, vi } from 'vitest'
import { FatalOperationError } from '../../../../lib/errors.js'
import type { RetryPolicy } from '../../../../lib/retry.js'
import type { Config } from '../../../../lib/config.js'
import { MongoConnection, type ConnectOptions } from '../../../../lib/store/connection/client.js'
import { startMongo, stopMongo } from '../../../stack/control.js'
import { mongoIsExternal } from '../../../stack/test-helpers.js'
import { captureOutput, testConfig } from '../helpers.js'

const password = () => /^mongodb:\/\/[^:]+:([^@]+)@/.exec(process.env.MONGODB_URI ?? '')?.[1] ?? ''

/** Long enough to outlast a FerretDB stop/start on this machine, short in real time. */
const patientRetry: RetryPolicy = {
  maxAttempts: 30,
  initialDelayMs: 100,
  maxDelayMs: 500,
  backoffMultiplier: 2,
}

/** Restarts Mongo even when the test body fails: other engineers share this server. */
async function withMongoStopped<T>(body: () => Promise<T>): Promise<T> {
  await stopMongo()
  try {
    return await body()
  } finally {
    await startMongo()
  }
}

/** The test's connection, as a warm container keeps one. */
let mongo: MongoConnection | undefined
const connectDB = (options: ConnectOptions & { config?: Config } = {}) => {
  const { config, ...rest } = options
  if (config) mongo = new MongoConnection(config)
  if (!mongo) throw new Error('test bug: the first connectDB needs a config')
  return mongo.connectDB(rest)
}
const isMongoConnected = () => mongo?.isMongoConnected() ?? false
const getMongoHealth = () => mongo!.getMongoHealth()

let output: ReturnType<typeof captureOutput> | undefined
afterEach(async () => {
  output?.restore()
  output = undefined
  await mongo?.disconnectDB()
  mongo = undefined
})

describe('MongoDB connection', () => {
  it('creates one client and shares one connect between concurrent first calls', async () => {
    output = captureOutput()
    const config = testConfig()
    mongo = new MongoConnection(config)
    const dbs = await Promise.all(Array.from({ length: 5 }, () => connectDB()))
    expect(new Set(dbs).size).toBe(1)
    expect(await connectDB()).toBe(dbs[0])
    expect(output.events().filter((e) => e.event === 'mongo.connected')).toHaveLength(1)
    const health = getMongoHealth()
    expect(health).toMatchObject({ connected: true, readyState: 1, dbName: config.mongodb.db })
    expect(health.port).toBeGreaterThan(0)
    expect(JSON.stringify(health)).not.toContain(password())
    expect(output.text()).not.toContain(password())
  })

  it('reports disconnected with readyState 0 after disconnectDB', async () => {
    await connectDB({ config: testConfig() })
    await mongo!.disconnectDB()
    expect(isMongoConnected()).toBe(false)
    expect(getMongoHealth()).toMatchObject({ connected: false, readyState: 0 })
  })

  it('fails at once with a clear error and no retry when the password is wrong', async () => {
    output = captureOutput()
    const wrong = 'definitely-not-the-password'
    const uri = (process.env.MONGODB_URI ?? '').replace(
      /^(mongodb:\/\/[^:]+:)[^@]+@/,
      `$1${wrong}@`,
    )
    const error: unknown = await connectDB({
      config: testConfig(),
      uri,
      retryPolicy: patientRetry,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FatalOperationError)
    expect((error as Error).message).toMatch(/MongoDB connect failed \(mongo-auth, not retried\)/)
    expect((error as Error).message).toMatch(/Authentication failed/i)
    expect((error as Error).message).not.toContain(wrong)
    expect(output.events().filter((e) => e.event === 'retry')).toHaveLength(0)
    expect(output.text()).not.toContain(wrong)
    expect(isMongoConnected()).toBe(false)
  })

  it('connects when MongoDB is down at first and starts within the retry window', async (ctx) => {
    if (mongoIsExternal())
      ctx.skip('MONGODB_URI points at an external server the stack cannot stop')
    output = captureOutput()
    const capture = output
    const config = testConfig({
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '500',
      MONGODB_TIMEOUT_MS: '500',
    })
    let connecting: Promise<unknown> | undefined
    await withMongoStopped(async () => {
      connecting = connectDB({ config, retryPolicy: patientRetry })
      // Started only once a connect attempt has failed and been scheduled for retry.
      await vi.waitFor(() => expect(capture.events().some((e) => e.event === 'retry')).toBe(true), {
        timeout: 20_000,
        interval: 50,
      })
    })
    await expect(connecting).resolves.toBeDefined()
    expect(isMongoConnected()).toBe(true)
    const retries = capture.events().filter((e) => e.event === 'retry')
    expect(retries[0]).toMatchObject({ operation: 'MongoDB connect', attempt: 1 })
  })
})

describe('MongoDB restarted between two operations', () => {
  const heartbeatFrequencyMs = 500

  async function firstOperationThenRestart(reconnect: 'true' | 'false') {
    const config = testConfig({ ENABLE_MONGO_RECONNECT: reconnect })
    const db = await connectDB({ config, heartbeatFrequencyMs, retryPolicy: patientRetry })
    await db.collection('ops').insertOne({ _id: 'first' as never })
    await withMongoStopped(async () => {
      // The driver's monitor notices within a heartbeat; waiting on that state is not a sleep.
      await vi.waitFor(() => expect(isMongoConnected()).toBe(false), {
        timeout: 15_000,
        interval: 50,
      })
    })
    return db
  }

  it('lets the second operation succeed after a reconnect when ENABLE_MONGO_RECONNECT=true', async (ctx) => {
    if (mongoIsExternal())
      ctx.skip('MONGODB_URI points at an external server the stack cannot stop')
    output = captureOutput()
    const first = await firstOperationThenRestart('true')
    const db = await connectDB({ retryPolicy: patientRetry })
    expect(db).toBe(first)
    await db.collection('ops').insertOne({ _id: 'second' as never })
    expect(await db.collection('ops').countDocuments({})).toBe(2)
    const events = output.events().map((e) => e.event)
    expect(events).toContain('mongo.disconnected')
    expect(events.indexOf('mongo.reconnecting')).toBeLessThan(events.indexOf('mongo.reconnected'))
    // The reconnection lines in the fault-tolerance contract's words, the attempt logged as it starts.
    const reconnection = output
      .events()
      .filter((e) => String(e.event).startsWith('mongo.reconnect'))
      .map((e) => [e.event, e.message])
    expect(reconnection).toEqual([
      ['mongo.reconnecting', 'MongoDB: Reconnecting in 1000ms...'],
      ['mongo.reconnect-started', 'MongoDB: Reconnecting...'],
      ['mongo.reconnected', 'MongoDB: Reconnected successfully'],
    ])
    expect(getMongoHealth()).toMatchObject({ connected: true, readyState: 1 })
    await db.dropDatabase()
  })

  it('fails the second operation clearly when ENABLE_MONGO_RECONNECT=false', async (ctx) => {
    if (mongoIsExternal())
      ctx.skip('MONGODB_URI points at an external server the stack cannot stop')
    output = captureOutput()
    const first = await firstOperationThenRestart('false')
    await expect(connectDB()).rejects.toThrow(
      /MongoDB connection was lost \(.+\) and reconnect is disabled \(ENABLE_MONGO_RECONNECT=false\)/,
    )
    // The next invocation starts afresh, on the same connection, instead of inheriting the loss.
    const again = await connectDB()
    expect(again).not.toBe(first)
    await again.client.db(first.databaseName).dropDatabase()
  })
})
