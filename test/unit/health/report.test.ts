import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import type { StateFields } from '../../../lib/health/freshness.js'
import { healthResponse } from '../../../lib/health/http-response.js'
import { checkHealth, type HealthPorts } from '../../../lib/health/report.js'
import type { MongoHealth } from '../../../lib/store/connection/client.js'

const now = new Date('2026-11-28T12:00:00.000Z')
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000)
const config = loadConfig({
  SYNC_RESOURCES: 'v1/pods,apps/v1/deployments',
  CLUSTER_NAME: 'prod-eu-1',
  HEALTH_MAX_SYNC_AGE_SECONDS: '900',
})
const up: MongoHealth = { connected: true, readyState: 1, host: 'db', port: 27017, dbName: 'inv' }
const fresh: StateFields = { lastFullSyncAt: ago(60), lastWatchAt: ago(10), needsRelist: false }

/** The configured cluster's states, no registry: a single-cluster deployment as it always was. */
const ports = (states: Record<string, StateFields>, mongo = up): HealthPorts => ({
  readFleet: (configured) =>
    Promise.resolve({
      registry: undefined,
      states: new Map([[configured.name, new Map(Object.entries(states))]]),
      unmanaged: [],
    }),
  mongoHealth: () => mongo,
  now: () => now,
})

describe('the health report', () => {
  it('answers 200 when MongoDB is connected and every configured resource is fresh', async () => {
    const report = await checkHealth(
      config,
      ports({ 'v1/pods': fresh, 'apps/v1/deployments': fresh }),
    )
    expect(report).toMatchObject({
      status: 'healthy',
      cluster: 'prod-eu-1',
      mongo: up,
      thresholds: { maxSyncAgeSeconds: 900, maxWatchAgeSeconds: 180 },
      problems: [],
    })
    expect(report.resources.map((r) => r.resource)).toEqual(['v1/pods', 'apps/v1/deployments'])
    const response = healthResponse(report)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/json')
    expect(JSON.parse(response.body)).toEqual(JSON.parse(JSON.stringify(report)))
  })

  it('answers 503 when one configured resource has no state, naming it', async () => {
    const report = await checkHealth(config, ports({ 'v1/pods': fresh }))
    expect(healthResponse(report).statusCode).toBe(503)
    expect(report.resources[1]).toMatchObject({
      resource: 'apps/v1/deployments',
      reasons: ['never-synced', 'watch-never-ran'],
    })
  })

  it('answers 503 with the reason, not an error, when MongoDB cannot be read', async () => {
    const report = await checkHealth(config, {
      readFleet: () =>
        Promise.reject(new Error('connect ECONNREFUSED mongodb://u:pw-12345678@db:27017')),
      mongoHealth: () => ({ connected: false, readyState: 0, host: '', port: 0, dbName: '' }),
      now: () => now,
    })
    expect(healthResponse(report).statusCode).toBe(503)
    expect(report.mongo.error).toBe('connect ECONNREFUSED mongodb://***@db:27017')
    expect(report.problems[0]).toMatch(/^MongoDB: connect ECONNREFUSED/)
    expect(report.resources.every((r) => r.reasons.includes('mongo-unreachable'))).toBe(true)
    expect(JSON.stringify(report)).not.toContain('pw-12345678')
  })

  it('answers 503 when the read worked but the driver has since lost the server', async () => {
    const report = await checkHealth(
      config,
      ports(
        { 'v1/pods': fresh, 'apps/v1/deployments': fresh },
        { ...up, connected: false, readyState: 0 },
      ),
    )
    expect(report.status).toBe('unhealthy')
    expect(report.problems).toEqual(['MongoDB: not connected'])
  })
})
