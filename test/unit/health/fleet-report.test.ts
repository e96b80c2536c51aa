import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import type { FleetStates, ManagedCluster } from '../../../lib/health/fleet.js'
import type { StateFields } from '../../../lib/health/freshness.js'
import { healthResponse } from '../../../lib/health/http-response.js'
import { checkHealth, type HealthPorts } from '../../../lib/health/report.js'
import type { MongoHealth } from '../../../lib/store/connection/client.js'

const now = new Date('2026-11-28T12:00:00.000Z')
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000)
const config = loadConfig({
  SYNC_RESOURCES: 'v1/pods',
  CLUSTER_NAME: 'lambda-home',
  HEALTH_MAX_SYNC_AGE_SECONDS: '900',
  HEALTH_MAX_WATCH_AGE_SECONDS: '180',
})
const up: MongoHealth = { connected: true, readyState: 1, host: 'db', port: 27017, dbName: 'inv' }
const fresh: StateFields = { lastFullSyncAt: ago(60), lastWatchAt: ago(10), needsRelist: false }
const stale: StateFields = { lastFullSyncAt: ago(2400), lastWatchAt: ago(10), needsRelist: false }

type States = Record<string, Record<string, StateFields>>

/** What readFleet would find: these registry clusters (undefined: none), these states by cluster. */
function fleet(
  registry: ManagedCluster[] | undefined,
  states: States,
  unmanaged: string[] = [],
): HealthPorts {
  const byCluster: FleetStates['states'] = new Map(
    Object.entries(states).map(([cluster, s]) => [cluster, new Map(Object.entries(s))]),
  )
  return {
    readFleet: () => Promise.resolve({ registry, states: byCluster, unmanaged }),
    mongoHealth: () => up,
    now: () => now,
  }
}

const registry: ManagedCluster[] = [
  { name: 'prod-eu', resources: ['v1/pods', 'apps/v1/deployments'] },
  { name: 'prod-us', resources: ['v1/pods'] },
]

describe('the health report of a fleet', () => {
  it('lists each registry cluster, and answers 503 naming the stale one', async () => {
    const report = await checkHealth(
      config,
      fleet(
        registry,
        {
          'prod-eu': { 'v1/pods': fresh, 'apps/v1/deployments': fresh },
          'prod-us': { 'v1/pods': stale },
        },
        ['old-cluster'],
      ),
    )
    expect(healthResponse(report).statusCode).toBe(503)
    expect(report.status).toBe('unhealthy')
    expect(report.clusters.map((c) => [c.cluster, c.healthy, c.stale])).toEqual([
      ['prod-eu', true, false],
      ['prod-us', false, true],
    ])
    expect(report.staleClusters).toEqual(['prod-us'])
    expect(report.unmanagedClusters).toEqual(['old-cluster'])
    expect(report.problems).toEqual(['prod-us: v1/pods: last complete sync 2400 s ago (max 900 s)'])
  })

  it('keeps the flattened resources list, each entry naming its cluster', async () => {
    const report = await checkHealth(
      config,
      fleet(registry, { 'prod-eu': { 'v1/pods': fresh }, 'prod-us': { 'v1/pods': fresh } }),
    )
    expect(report.resources.map((r) => `${r.cluster} ${r.resource} ${r.healthy}`)).toEqual([
      'prod-eu v1/pods true',
      'prod-eu apps/v1/deployments false',
      'prod-us v1/pods true',
    ])
    expect(report.clusters[0]!.resources[1]).toMatchObject({
      cluster: 'prod-eu',
      resource: 'apps/v1/deployments',
      reasons: ['never-synced', 'watch-never-ran'],
    })
    // The configured cluster stays the report's `cluster`, even when the registry does not list it.
    expect(report.cluster).toBe('lambda-home')
  })

  it('answers 200 when every registry cluster is fresh, whatever an unmanaged cluster holds', async () => {
    const report = await checkHealth(
      config,
      fleet(
        registry,
        {
          'prod-eu': { 'v1/pods': fresh, 'apps/v1/deployments': fresh },
          'prod-us': { 'v1/pods': fresh },
          gone: { 'v1/pods': stale },
        },
        ['gone'],
      ),
    )
    expect(healthResponse(report).statusCode).toBe(200)
    expect(report).toMatchObject({ problems: [], staleClusters: [], unmanagedClusters: ['gone'] })
  })

  it("does not count one cluster's state for another's resource", async () => {
    const report = await checkHealth(
      config,
      fleet(registry, { 'prod-eu': { 'v1/pods': fresh, 'apps/v1/deployments': fresh } }),
    )
    expect(report.staleClusters).toEqual(['prod-us'])
    expect(report.clusters[1]!.resources[0]!.reasons).toEqual(['never-synced', 'watch-never-ran'])
  })

  it('calls a cluster that needs a relist unhealthy but not stale', async () => {
    const relist: StateFields = { ...fresh, needsRelist: true, relistReason: 'watch: 410 Gone' }
    const report = await checkHealth(
      config,
      fleet(registry, {
        'prod-eu': { 'v1/pods': fresh, 'apps/v1/deployments': relist },
        'prod-us': { 'v1/pods': fresh },
      }),
    )
    expect(report.status).toBe('unhealthy')
    expect(report.clusters[0]).toMatchObject({ cluster: 'prod-eu', healthy: false, stale: false })
    expect(report.staleClusters).toEqual([])
    expect(report.problems).toEqual([
      'prod-eu: apps/v1/deployments: needs a relist (watch: 410 Gone)',
    ])
  })

  it('is healthy with an empty registry: no cluster to fail', async () => {
    const report = await checkHealth(config, fleet([], {}, ['left-behind']))
    expect(report).toMatchObject({ status: 'healthy', clusters: [], resources: [] })
  })
})

describe('the health report without a registry', () => {
  it('checks the configured cluster alone, with the sentences a single cluster always had', async () => {
    const report = await checkHealth(
      config,
      fleet(undefined, { 'lambda-home': { 'v1/pods': stale } }),
    )
    expect(report.clusters).toEqual([
      expect.objectContaining({ cluster: 'lambda-home', healthy: false, stale: true }),
    ])
    expect(report.resources).toEqual([
      expect.objectContaining({
        cluster: 'lambda-home',
        resource: 'v1/pods',
        reasons: ['sync-stale'],
      }),
    ])
    expect(report.problems).toEqual(['v1/pods: last complete sync 2400 s ago (max 900 s)'])
    expect(report).toMatchObject({ staleClusters: ['lambda-home'], unmanagedClusters: [] })
  })

  it('lists the configured cluster as state unknown, and no stale cluster, when MongoDB cannot be read', async () => {
    const report = await checkHealth(config, {
      readFleet: () => Promise.reject(new Error('connect ECONNREFUSED db:27017')),
      mongoHealth: () => ({ ...up, connected: false, readyState: 0 }),
      now: () => now,
    })
    expect(healthResponse(report).statusCode).toBe(503)
    expect(report.clusters).toEqual([
      expect.objectContaining({ cluster: 'lambda-home', healthy: false, stale: false }),
    ])
    expect(report.resources[0]!.reasons).toEqual(['mongo-unreachable'])
    expect(report).toMatchObject({ staleClusters: [], unmanagedClusters: [] })
    expect(report.problems[0]).toBe('MongoDB: connect ECONNREFUSED db:27017')
  })
})
