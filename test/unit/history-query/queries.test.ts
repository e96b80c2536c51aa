import { describe, expect, it } from 'vitest'
import { objectFilter } from '../../../lib/history-query/object-history.js'
import {
  resourceStateAsOfPipeline,
  stateFilter,
} from '../../../lib/history-query/resource-state.js'
import { docsQueries, runShellQuery } from './mongosh-blocks.js'

/** docs/history.md#what-is-recorded: the index every object query and state query starts with. */
const OBJECT_INDEX = ['cluster', 'resource', 'namespace', 'name', 'observedAt']

describe('history queries use the contract indexes', () => {
  it('filters one object on the full equality prefix of the object index, then observedAt', () => {
    const filter = objectFilter(
      { cluster: 'c', resource: 'apps/v1/deployments', namespace: 'shop', name: 'web' },
      { $lte: new Date(0) },
    )
    expect(Object.keys(filter)).toEqual(OBJECT_INDEX)
  })

  it('asks for namespace null (not a missing field) for a cluster-scoped object', () => {
    expect(
      objectFilter({ cluster: 'c', resource: 'v1/namespaces', namespace: null, name: 'a' }),
    ).toMatchObject({ namespace: null })
  })

  it('filters a resource state on the index prefix (cluster, resource[, namespace]) and observedAt', () => {
    const at = new Date(0)
    expect(Object.keys(stateFilter({ cluster: 'c', resource: 'v1/configmaps', at }))).toEqual([
      'cluster',
      'resource',
      'observedAt',
    ])
    expect(
      Object.keys(stateFilter({ cluster: 'c', resource: 'v1/configmaps', at, namespace: 'shop' })),
    ).toEqual(['cluster', 'resource', 'namespace', 'observedAt'])
  })
})

describe('docs/history.md', () => {
  it('prints the same state-as-of aggregation that resourceStateAsOf runs', async () => {
    const code = docsQueries().get('resource-state-aggregation')
    expect(code).toBeDefined()
    const calls: unknown[][] = []
    const fakeDb = {
      collection: (name: string) => ({
        aggregate: (...args: unknown[]) => {
          calls.push([name, ...args])
          return []
        },
      }),
    }
    await runShellQuery(fakeDb, code!)
    const at = new Date('2026-11-28T10:22:00Z')
    expect(calls).toEqual([
      [
        'object_history',
        resourceStateAsOfPipeline({ cluster: 'prod-eu-1', resource: 'v1/configmaps', at }),
        { allowDiskUse: true },
      ],
    ])
  })

  it('has every query the tests run', () => {
    expect([...docsQueries().keys()].sort()).toEqual([
      'image-changes-last-day',
      'namespace-last-hour',
      'object-as-of',
      'resource-state-aggregation',
      'resource-state-portable',
    ])
  })
})
