import type { Db } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Config, type Env } from '../../../lib/config.js'
import { healthResponse } from '../../../lib/health/http-response.js'
import { healthPorts, quickMongoConfig } from '../../../lib/health/mongo-ports.js'
import { checkHealth, type HealthReport } from '../../../lib/health/report.js'
import { parseResourceRef, stateIdOf } from '../../../lib/resource-ref.js'
import { saveFleetRegistry } from '../../../lib/store/bookkeeping/fleet-registry.js'
import { acquireLease } from '../../../lib/store/bookkeeping/lease.js'
import { checkpointsFor } from '../../../lib/store/bookkeeping/sync-state.js'
import { MongoConnection } from '../../../lib/store/connection/client.js'
import { createContainer, type Container } from '../../../lib/runtime/container.js'
import { createDeadline } from '../../../lib/sync/deadline.js'
import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { randomDbName } from '../store/helpers.js'
import { invokeScript } from './run-invoke.js'

/*
 * GET /health against the real MongoDB (FerretDB), with sync_state written by
 * the real checkpoint code or by real reconcile and watch runs.
 */

const password = () => new URL(process.env.MONGODB_URI ?? 'mongodb://x').password
const resources = 'v1/configmaps,apps/v1/deployments'
const ref = (id: string) => parseResourceRef(id)!

function healthConfig(overrides: Env = {}): Config {
  return loadConfig({
    ...process.env,
    MONGODB_DB: randomDbName('health'),
    CLUSTER_NAME: 'health-test',
    SYNC_RESOURCES: resources,
    HEALTH_MONGODB_TIMEOUT_MS: '2000',
    ...overrides,
  })
}

/** The health function's warm container in this test file (closed after each test). */
let container: Container | undefined

/** What the Lambda handler does, in process: the same ports and report. */
async function check(
  config: Config,
): Promise<{ status: number; report: HealthReport; body: string }> {
  container ??= createContainer(quickMongoConfig(config))
  const deadline = createDeadline(60_000)
  const invocation = { config, secrets: {}, deadline, owner: 'health/test', container }
  const response = healthResponse(await checkHealth(config, await healthPorts(invocation)))
  deadline.dispose()
  return {
    status: response.statusCode,
    report: JSON.parse(response.body) as HealthReport,
    body: response.body,
  }
}

/**
 * Works on the database with a client of its own, closed after: the health
 * check must then connect with its own settings, as in its own Lambda.
 */
async function withDb<T>(config: Config, body: (db: Db) => Promise<T>): Promise<T> {
  const own = new MongoConnection(config)
  try {
    return await body(await own.connectDB())
  } finally {
    await own.disconnectDB()
  }
}

/** Writes sync_state as a complete list and a watch window would, `ages` seconds ago. */
async function recordRuns(
  config: Config,
  id: string,
  ages: { listSecondsAgo: number; watchSecondsAgo: number },
): Promise<void> {
  const at = (seconds: number) => () => new Date(Date.now() - seconds * 1000)
  await withDb(config, async (db) => {
    await checkpointsFor(
      db,
      config.clusterName,
      ref(id),
      at(ages.listSecondsAgo),
    ).saveListCheckpoint('100', { listed: 1 })
    await checkpointsFor(
      db,
      config.clusterName,
      ref(id),
      at(ages.watchSecondsAgo),
    ).saveWatchCheckpoint('101', { events: 1 })
  })
}

const toxi = new ToxiproxyClient()
const configs: Config[] = []
const track = (config: Config) => (configs.push(config), config)

afterEach(async () => {
  if (process.env.TOXIPROXY_URL) await toxi.setEnabled('mongo', true)
  await container?.mongo.disconnectDB()
  container = undefined
})

afterAll(async () => {
  for (const config of configs) {
    await withDb(config, (db) => db.dropDatabase()).catch(() => undefined)
  }
})

describe('GET /health against the local stack', () => {
  it('answers 200 when every resource has a fresh complete sync and watch window', async () => {
    const config = track(healthConfig())
    await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 120, watchSecondsAgo: 20 })
    await recordRuns(config, 'apps/v1/deployments', { listSecondsAgo: 600, watchSecondsAgo: 50 })
    const { status, report, body } = await check(config)
    expect(status).toBe(200)
    expect(report).toMatchObject({
      status: 'healthy',
      cluster: 'health-test',
      mongo: { connected: true, readyState: 1, dbName: config.mongodb.db },
      problems: [],
    })
    const [configmaps, deployments] = report.resources
    expect(configmaps).toMatchObject({ resource: 'v1/configmaps', healthy: true, reasons: [] })
    expect(configmaps!.lastFullSyncAgeSeconds).toBeGreaterThanOrEqual(120)
    expect(configmaps!.lastFullSyncAgeSeconds).toBeLessThan(180)
    expect(deployments!.lastWatchAgeSeconds).toBeGreaterThanOrEqual(50)
    expect(body).not.toContain(password())
  })

  it('answers 503 naming sync-stale when the last complete sync is older than the limit', async () => {
    const config = track(healthConfig({ HEALTH_MAX_SYNC_AGE_SECONDS: '1800' }))
    await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 2400, watchSecondsAgo: 20 })
    await recordRuns(config, 'apps/v1/deployments', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    const { status, report } = await check(config)
    expect(status).toBe(503)
    expect(report.resources[0]).toMatchObject({ healthy: false, reasons: ['sync-stale'] })
    expect(report.resources[1]).toMatchObject({ healthy: true })
    expect(report.problems).toEqual([
      expect.stringMatching(/^v1\/configmaps: last complete sync 24\d\d s ago \(max 1800 s\)$/),
    ])
  })

  it('answers 503 naming needs-relist after a watch 410 marked the resource, and shows its last error', async () => {
    const config = track(healthConfig())
    await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    await recordRuns(config, 'apps/v1/deployments', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    await withDb(config, async (db) => {
      const checkpoints = checkpointsFor(db, config.clusterName, ref('apps/v1/deployments'))
      await checkpoints.markNeedsRelist('watch: 410 Gone (too old resource version)')
      await checkpoints.recordError(`write failed on ${process.env.MONGODB_URI}`)
    })
    const { status, report, body } = await check(config)
    expect(status).toBe(503)
    expect(report.resources[1]).toMatchObject({
      resource: 'apps/v1/deployments',
      reasons: ['needs-relist'],
      needsRelist: true,
      relistReason: 'watch: 410 Gone (too old resource version)',
      lastError: { message: expect.stringContaining('write failed on mongodb://***@127.0.0.1') },
    })
    expect(body).not.toContain(password())
  })

  it('answers 503 naming never-synced for a configured resource that never ran', async () => {
    const config = track(healthConfig())
    await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    const { status, report } = await check(config)
    expect(status).toBe(503)
    expect(report.resources[1]).toMatchObject({
      resource: 'apps/v1/deployments',
      reasons: ['never-synced', 'watch-never-ran'],
    })
  })

  it('does not count the state of another cluster', async () => {
    const config = track(healthConfig())
    const other = loadConfig({
      ...process.env,
      MONGODB_DB: config.mongodb.db,
      CLUSTER_NAME: 'other',
    })
    await recordRuns(other, 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    await recordRuns(other, 'apps/v1/deployments', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    const { status, report } = await check(config)
    expect(status).toBe(503)
    expect(report.resources.every((r) => r.reasons.includes('never-synced'))).toBe(true)
  })

  it('without a registry lists the configured cluster alone, and no other cluster as unmanaged', async () => {
    const config = track(healthConfig())
    await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    await recordRuns(config, 'apps/v1/deployments', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    const other = { ...config, clusterName: 'other-deployment' }
    await recordRuns(other, 'v1/configmaps', { listSecondsAgo: 9000, watchSecondsAgo: 9000 })
    const { status, report } = await check(config)
    expect(status).toBe(200)
    expect(report).toMatchObject({
      cluster: 'health-test',
      clusters: [{ cluster: 'health-test', healthy: true, stale: false }],
      staleClusters: [],
      unmanagedClusters: [],
    })
    expect(report.resources.map((r) => `${r.cluster} ${r.resource}`)).toEqual([
      'health-test v1/configmaps',
      'health-test apps/v1/deployments',
    ])
  })

  describe.skipIf(!process.env.MONGODB_URI_TOXIPROXY)('with MongoDB cut off (toxiproxy)', () => {
    const viaProxy = () => process.env.MONGODB_URI_TOXIPROXY ?? ''

    it('answers 503 within seconds, saying why, on a cold start', async () => {
      const config = track(healthConfig({ MONGODB_URI: viaProxy() }))
      await toxi.setEnabled('mongo', false)
      const started = Date.now()
      const { status, report, body } = await check(config)
      const elapsedMs = Date.now() - started
      expect(status).toBe(503)
      expect(report.mongo).toMatchObject({ connected: false })
      expect(report.mongo.error).toMatch(/MongoDB connect/)
      expect(report.problems[0]).toMatch(/^MongoDB: /)
      expect(report.resources.map((r) => r.reasons)).toEqual([
        ['mongo-unreachable'],
        ['mongo-unreachable'],
      ])
      // The sync functions' patience (30 s server selection, 5 attempts) would take minutes.
      expect(elapsedMs).toBeLessThan(8_000)
      expect(body).not.toContain(password())
    })

    it('answers 503 within seconds when a warm connection is cut, and 200 again once it is back', async () => {
      const config = track(healthConfig({ MONGODB_URI: viaProxy() }))
      await recordRuns(config, 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
      await recordRuns(config, 'apps/v1/deployments', { listSecondsAgo: 60, watchSecondsAgo: 20 })
      expect((await check(config)).status).toBe(200)

      await toxi.setEnabled('mongo', false)
      const started = Date.now()
      const down = await check(config)
      const elapsedMs = Date.now() - started
      expect(down.status).toBe(503)
      expect(down.report.mongo.error).toBeDefined()
      expect(elapsedMs).toBeLessThan(8_000)
      expect(down.body).not.toContain(password())

      await toxi.setEnabled('mongo', true)
      expect((await check(config)).status).toBe(200)
    })
  })
})

describe('npm run invoke -- health, after real reconcile and watch runs', () => {
  let env: NodeJS.ProcessEnv
  let db: string

  beforeAll(() => {
    db = randomDbName('health_invoke')
    env = {
      ...process.env,
      MONGODB_DB: db,
      CLUSTER_NAME: 'health-invoke',
      SYNC_RESOURCES: 'v1/configmaps',
      RUN_BUDGET_MS: '60000',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    }
  })

  afterAll(async () => {
    const config = loadConfig({ ...process.env, MONGODB_DB: db })
    await withDb(config, (handle) => handle.dropDatabase()).catch(() => undefined)
  })

  it('answers 503 before any run, 200 after a reconcile and a watch window, and exits 0 only then', async () => {
    const before = await invokeScript('health', {}, env)
    expect(before.code).toBe(2)
    expect(before.result).toMatchObject({ statusCode: 503 })
    expect(JSON.parse(String(before.result?.body))).toMatchObject({
      resources: [{ resource: 'v1/configmaps', reasons: ['never-synced', 'watch-never-ran'] }],
    })

    expect((await invokeScript('reconcile', {}, env)).result).toMatchObject({ ok: true })
    expect((await invokeScript('watch', { windowSeconds: 1 }, env)).result).toMatchObject({
      ok: true,
    })

    const after = await invokeScript('health', {}, env)
    expect(after.code).toBe(0)
    expect(after.result).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
    })
    const body = JSON.parse(String(after.result?.body)) as HealthReport
    expect(body).toMatchObject({
      status: 'healthy',
      resources: [{ resource: 'v1/configmaps', healthy: true, needsRelist: false }],
    })
    expect(body.resources[0]!.lastFullSyncAgeSeconds).toBeLessThan(60)
    expect(after.output).not.toContain(password())
  }, 240_000)

  it("answers 503 quickly when MongoDB is unreachable, even with the sync functions' 30 s server selection", async () => {
    const run = await invokeScript(
      'health',
      {},
      {
        ...env,
        MONGODB_URI: process.env.MONGODB_URI!.replace(/:(\d+)\//, ':1/'),
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '30000',
      },
    )
    expect(run.code).toBe(2)
    expect(run.result).toMatchObject({ statusCode: 503 })
    expect(JSON.parse(String(run.result?.body)).mongo.error).toMatch(/ECONNREFUSED|connect/i)
    // A cold process (tsx start-up included); the sync settings alone would wait 30 s per attempt.
    expect(run.durationMs).toBeLessThan(20_000)
    expect(run.output).not.toContain(password())
  }, 60_000)
})

describe('GET /health of a fleet (sync_fleet registry)', () => {
  /** Two registry clusters, one fresh and one stale, beside two clusters no longer in it. */
  async function seedFleet(config: Config): Promise<void> {
    const as = (cluster: string) => ({ ...config, clusterName: cluster })
    await recordRuns(as('fleet-a'), 'v1/configmaps', { listSecondsAgo: 60, watchSecondsAgo: 20 })
    await recordRuns(as('fleet-b'), 'v1/configmaps', { listSecondsAgo: 2400, watchSecondsAgo: 20 })
    await recordRuns(as('fleet-b'), 'apps/v1/deployments', {
      listSecondsAgo: 60,
      watchSecondsAgo: 20,
    })
    await recordRuns(as('retired'), 'v1/configmaps', {
      listSecondsAgo: 9000,
      watchSecondsAgo: 9000,
    })
    await withDb(config, async (db) => {
      // A sync_state a lease created, without its `cluster` field: still a cluster's state.
      await acquireLease(db, stateIdOf('half-started', ref('v1/pods')), 'reconcile/x', 60_000)
      await saveFleetRegistry(db, {
        clusters: [
          { name: 'fleet-a', resources: ['v1/configmaps'] },
          { name: 'fleet-b', resources: ['v1/configmaps', 'apps/v1/deployments'] },
        ],
        plannedAt: new Date(),
      })
    })
  }

  it('answers 503 naming the stale registry cluster, and lists the unmanaged ones without counting them', async () => {
    const config = track(healthConfig({ HEALTH_MAX_SYNC_AGE_SECONDS: '1800' }))
    await seedFleet(config)
    const { status, report, body } = await check(config)
    expect(status).toBe(503)
    expect(report.clusters.map((c) => [c.cluster, c.healthy, c.stale])).toEqual([
      ['fleet-a', true, false],
      ['fleet-b', false, true],
    ])
    expect(report.staleClusters).toEqual(['fleet-b'])
    expect(report.unmanagedClusters).toEqual(['half-started', 'retired'])
    expect(report.problems).toEqual([
      expect.stringMatching(
        /^fleet-b: v1\/configmaps: last complete sync 24\d\d s ago \(max 1800 s\)$/,
      ),
    ])
    expect(report.resources.map((r) => `${r.cluster} ${r.resource} ${r.healthy}`)).toEqual([
      'fleet-a v1/configmaps true',
      'fleet-b v1/configmaps false',
      'fleet-b apps/v1/deployments true',
    ])
    // The configured cluster (not in the registry) is only the report's `cluster`.
    expect(report.cluster).toBe('health-test')
    expect(body).not.toContain(password())
  })

  it('answers 200 once the stale cluster has synced, whatever the unmanaged clusters hold', async () => {
    const config = track(healthConfig({ HEALTH_MAX_SYNC_AGE_SECONDS: '1800' }))
    await seedFleet(config)
    await recordRuns({ ...config, clusterName: 'fleet-b' }, 'v1/configmaps', {
      listSecondsAgo: 30,
      watchSecondsAgo: 10,
    })
    const { status, report } = await check(config)
    expect(status).toBe(200)
    expect(report).toMatchObject({
      status: 'healthy',
      problems: [],
      staleClusters: [],
      unmanagedClusters: ['half-started', 'retired'],
    })
  })
})
