import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../lib/config.js'
import { historyIndexes } from '../../../../lib/store/history/history-collection.js'

const base = { MONGODB_URI: 'mongodb://localhost:27017', KUBECONFIG: '/dev/null' }

describe('history settings', () => {
  it('keeps no history by default, and 30 days of it once asked for', () => {
    expect(loadConfig(base).history).toEqual({ resources: [], retentionDays: 30 })
    const on = loadConfig({
      ...base,
      HISTORY_RESOURCES: 'v1/configmaps',
      HISTORY_RETENTION_DAYS: '0',
    })
    expect(on.history.resources.map((r) => r.id)).toEqual(['v1/configmaps'])
    expect(on.history.retentionDays).toBe(0)
  })

  it('refuses a history resource that is not synced, naming it', () => {
    expect(() =>
      loadConfig({
        ...base,
        SYNC_RESOURCES: 'v1/pods',
        HISTORY_RESOURCES: 'v1/pods,v1/configmaps',
      }),
    ).toThrow(/HISTORY_RESOURCES names v1\/configmaps, which is not synced/)
  })

  it('accepts a history resource synced by an inline registry cluster only', () => {
    const clusters = JSON.stringify([
      { name: 'a', kubeconfigPath: '/dev/null', resources: ['apps/v1/deployments'] },
    ])
    const config = loadConfig({
      ...base,
      SYNC_RESOURCES: 'v1/pods',
      CLUSTERS: clusters,
      HISTORY_RESOURCES: 'apps/v1/deployments',
    })
    expect(config.history.resources.map((r) => r.id)).toEqual(['apps/v1/deployments'])
  })

  it('refuses a retention that is not a whole number of days', () => {
    expect(() => loadConfig({ ...base, HISTORY_RETENTION_DAYS: '1.5' })).toThrow(
      /HISTORY_RETENTION_DAYS/,
    )
  })
})

describe('history indexes', () => {
  const ttlOf = (indexes: ReturnType<typeof historyIndexes>) =>
    indexes.find((i) => i.name === 'observedAt_ttl')

  it('adds a TTL index of the retention in seconds where the server has TTL indexes', () => {
    expect(ttlOf(historyIndexes(30, true))).toEqual({
      key: { observedAt: 1 },
      name: 'observedAt_ttl',
      expireAfterSeconds: 30 * 86_400,
    })
  })

  it('adds none when history is kept forever, or where the server has no TTL indexes (swept instead)', () => {
    expect(ttlOf(historyIndexes(0, true))).toBeUndefined()
    expect(ttlOf(historyIndexes(30, false))).toBeUndefined()
    expect(historyIndexes(30, false).map((i) => i.name)).toEqual([
      'cluster_resource_namespace_name_observedAt',
      'cluster_uid_observedAt',
      'resource_observedAt',
    ])
  })
})
