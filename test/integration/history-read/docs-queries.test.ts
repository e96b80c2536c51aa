import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docsQueries, runShellQuery } from '../../unit/history-query/mongosh-blocks.js'
import { freshDb, isFerretDb } from '../store/helpers.js'
import { CLUSTER, allStories } from './fixtures.js'
import { configMap, deployment, seedHistory, type SeedObject } from './seed-history.js'

const NOT_IMPLEMENTED = 238
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000)

const withInit = (image: string) => {
  const d = deployment('batch', 'worker', { replicas: 1, image: 'worker:1' })
  return {
    ...d,
    spec: {
      ...d.spec,
      template: {
        ...d.spec.template,
        spec: { ...d.spec.template.spec, initContainers: [{ name: 'migrate', image }] },
      },
    },
  }
}

/** Recent versions, relative to now, for the "last hour" and "last day" queries. */
const recentStories: SeedObject[] = [
  {
    cluster: CLUSTER,
    resource: 'apps/v1/deployments',
    uid: 'api-uid',
    steps: [
      {
        at: ago(180),
        rv: '500',
        type: 'ADDED',
        object: deployment('shop', 'api', { replicas: 1, image: 'api:1' }),
      },
      {
        at: ago(120),
        rv: '510',
        type: 'MODIFIED',
        object: deployment('shop', 'api', { replicas: 1, image: 'api:2' }),
      },
      {
        at: ago(30),
        rv: '520',
        type: 'MODIFIED',
        object: deployment('shop', 'api', { replicas: 4, image: 'api:2' }),
      },
    ],
  },
  {
    cluster: CLUSTER,
    resource: 'apps/v1/deployments',
    uid: 'legacy-uid',
    steps: [
      {
        at: ago(3 * 1440),
        rv: '300',
        type: 'ADDED',
        object: deployment('shop', 'legacy', { replicas: 1, image: 'old:1' }),
      },
      {
        at: ago(2 * 1440),
        rv: '310',
        type: 'MODIFIED',
        object: deployment('shop', 'legacy', { replicas: 1, image: 'old:2' }),
      },
    ],
  },
  {
    cluster: CLUSTER,
    resource: 'apps/v1/deployments',
    uid: 'worker-uid',
    steps: [
      { at: ago(60 * 5), rv: '600', type: 'ADDED', object: withInit('migrate:1') },
      { at: ago(20), rv: '610', type: 'MODIFIED', object: withInit('migrate:2') },
    ],
  },
  {
    cluster: CLUSTER,
    resource: 'v1/configmaps',
    uid: 'recent-uid',
    steps: [
      { at: ago(10), rv: '700', type: 'ADDED', object: configMap('shop', 'recent', { a: 'b' }) },
    ],
  },
  {
    cluster: CLUSTER,
    resource: 'v1/configmaps',
    uid: 'stale-uid',
    steps: [
      { at: ago(120), rv: '710', type: 'ADDED', object: configMap('shop', 'stale', { a: 'b' }) },
    ],
  },
  {
    cluster: CLUSTER,
    resource: 'v1/configmaps',
    uid: 'elsewhere-uid',
    steps: [
      { at: ago(5), rv: '720', type: 'ADDED', object: configMap('batch', 'elsewhere', { a: 'b' }) },
    ],
  },
  {
    cluster: 'other-1',
    resource: 'v1/configmaps',
    uid: 'other-cluster-uid',
    steps: [
      { at: ago(5), rv: '9', type: 'ADDED', object: configMap('shop', 'recent', { a: 'b' }) },
    ],
  },
]

describe('the MongoDB shell queries in docs/history.md, run as printed', () => {
  let db: Db
  let mongo: { disconnectDB: () => Promise<void> }
  const queries = docsQueries()
  const query = (id: string) => {
    const code = queries.get(id)
    if (!code) throw new Error(`docs/history.md has no query ${id}`)
    return runShellQuery(db, code)
  }

  beforeAll(async () => {
    ;({ db, mongo } = await freshDb())
    await seedHistory(db, [...allStories, ...recentStories])
  })
  afterAll(async () => {
    await db.dropDatabase()
    await mongo.disconnectDB()
  })

  it('an object as of T: the latest version observed by then', async () => {
    const { value } = await query('object-as-of')
    expect(value).toMatchObject([{ _id: 'prod-eu-1/web-uid-1/110', type: 'MODIFIED' }])
  })

  it('everything that changed in a namespace in the last hour, newest first, without objects', async () => {
    const { value } = await query('namespace-last-hour')
    const rows = value as { name: string; resourceVersion: string; object?: unknown }[]
    expect(rows.map((r) => `${r.name}@${r.resourceVersion}`)).toEqual(['recent@700', 'api@520'])
    expect(rows.every((r) => r.object === undefined)).toBe(true)
  })

  it('which Deployments changed their image in the last day, containers and initContainers', async () => {
    const { printed } = await query('image-changes-last-day')
    const lines = printed as string[]
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      / prod-eu-1 batch\/worker rv 610: \/spec\/template\/spec\/initContainers\/0\/image -> migrate:2$/,
    )
    expect(lines[1]).toMatch(
      / prod-eu-1 shop\/api rv 510: \/spec\/template\/spec\/containers\/0\/image -> api:2$/,
    )
  })

  it('the state of a whole resource as of T, portable: the right objects at the right versions', async () => {
    const { printed } = await query('resource-state-portable')
    const rows = printed[0] as { namespace: string; name: string; resourceVersion: string }[]
    expect(rows.map((r) => `${r.namespace}/${r.name}@${r.resourceVersion}`)).toEqual([
      'batch/tie@1000',
      'shop/settings@215',
    ])
  })

  it('the one aggregation: the same answer on MongoDB; on FerretDB 1.x, NotImplemented ($first)', async () => {
    const outcome = await query('resource-state-aggregation').then(
      ({ value }) => ({ value }),
      (error: { code?: number }) => ({ code: error.code }),
    )
    if (await isFerretDb(db)) {
      expect(outcome).toEqual({ code: NOT_IMPLEMENTED })
      return
    }
    const rows = (
      outcome as { value: { namespace: string; name: string; resourceVersion: string }[] }
    ).value
    expect(rows.map((r) => `${r.namespace}/${r.name}@${r.resourceVersion}`)).toEqual([
      'batch/tie@1000',
      'shop/settings@215',
    ])
  })
})
