import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiserver, stopApiserver } from '../../stack/control.js'
import { queueDepth } from '../../stack/queues.js'
import { uniqueName } from '../../stack/test-helpers.js'
import {
  RESOURCES,
  apiObjects,
  clusterName,
  drain,
  fleetEnv,
  invoke,
  openDb,
  seedCluster,
  storedObjects,
  tail,
  type FleetEnv,
  type MongoHandle,
} from './helpers.js'

/*
 * One cluster's API server down through a whole plan + drain: its three
 * tasks fail on every receive and the queue dead-letters them after the
 * third; the two other clusters converge all the same; GET /health names
 * the broken one; and once it is back, the next plan converges it.
 */

let fleet: FleetEnv
let mongo: MongoHandle
const namespace = uniqueName('broken')

beforeAll(async () => {
  fleet = await fleetEnv('broken', [1, 2, 3], {
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_INITIAL_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '100',
    K8S_REQUEST_TIMEOUT_MS: '2000',
    HEALTH_MONGODB_TIMEOUT_MS: '3000',
    // Only reconciles run here: health judges the complete syncs, not the watch windows.
    HEALTH_MAX_WATCH_AGE_SECONDS: '0',
  })
  for (const n of [1, 2, 3]) await seedCluster(n, namespace)
  mongo = await openDb(fleet.db)
})

afterAll(async () => {
  // Never leave cluster 2 down for the next file.
  await startApiserver(2)
  await mongo?.db.dropDatabase().catch(() => undefined)
  await mongo?.close()
})

async function expectConverged(n: number): Promise<void> {
  for (const r of RESOURCES) {
    expect(
      await storedObjects(mongo.db, r.collection, clusterName(n)),
      `${clusterName(n)} ${r.id}`,
    ).toEqual(await apiObjects(n, r.id))
  }
}

interface HealthBody {
  staleClusters: string[]
  clusters: Array<{ cluster: string; stale: boolean; healthy: boolean }>
}

async function health(): Promise<{ status: number; body: HealthBody }> {
  const run = await invoke('health', {}, fleet.env)
  const response = run.result as { statusCode: number; body: string } | undefined
  expect(response, tail(run.output)).toBeDefined()
  return { status: response!.statusCode, body: JSON.parse(response!.body) as HealthBody }
}

describe('a fleet with one cluster down', () => {
  it('dead-letters the broken cluster’s tasks after three receives while the others converge', async () => {
    const planned = await invoke('reconcile', {}, fleet.env)
    expect(planned.code, tail(planned.output)).toBe(0)
    expect(planned.result).toMatchObject({ planned: { tasks: 9 } })
    // Down between the plan and its tasks: the plan went out for a cluster that then broke.
    await stopApiserver(2)

    const drained = await drain(fleet.env, { queue: 'reconcile', concurrency: 3, maxSeconds: 90 })
    // Drained, but records failed: exit code 2.
    expect(drained.code, tail(drained.output)).toBe(2)
    expect(drained.summary).toMatchObject({ drained: true, succeeded: 6, failed: 9, deleted: 6 })
    expect(drained.summary.queues[0]!.dlqDepth).toBe(3)
    expect((await queueDepth(fleet.queues.reconcile.url)).total).toBe(0)
    expect((await queueDepth(fleet.queues.reconcile.dlqUrl)).total).toBe(3)

    // Each of c2's tasks was received three times, and only c2's failed.
    const failed = drained.logs.filter((l) => l.event === 'task.done' && l.outcome === 'failed')
    expect(failed.map((l) => `${l.cluster} ${l.resource} ${l.receiveCount}`).sort()).toEqual(
      RESOURCES.flatMap((r) => [1, 2, 3].map((k) => `c2 ${r.id} ${k}`)).sort(),
    )
    await expectConverged(1)
    await expectConverged(3)
    for (const r of RESOURCES) expect(await storedObjects(mongo.db, r.collection, 'c2')).toEqual([])
  }, 150_000)

  it('answers GET /health 503 naming the broken cluster as stale, and only it', async () => {
    const { status, body } = await health()
    expect(status).toBe(503)
    expect(body.staleClusters).toEqual(['c2'])
    expect(body.clusters.map((c) => `${c.cluster} ${c.healthy}`).sort()).toEqual([
      'c1 true',
      'c2 false',
      'c3 true',
    ])
  })

  it('converges the cluster on the next plan once its API server is back', async () => {
    await startApiserver(2)
    const planned = await invoke('reconcile', {}, fleet.env)
    expect(planned.result).toMatchObject({ planned: { tasks: 9 } })
    const drained = await drain(fleet.env, { queue: 'reconcile', concurrency: 3 })
    expect(drained.code, tail(drained.output)).toBe(0)
    expect(drained.summary).toMatchObject({ drained: true, succeeded: 9, failed: 0 })
    for (const n of [1, 2, 3]) await expectConverged(n)
    const { status, body } = await health()
    expect(body.staleClusters).toEqual([])
    expect(status).toBe(200)
  }, 150_000)
})
