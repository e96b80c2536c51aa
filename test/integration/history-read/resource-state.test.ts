import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from 'mongodb'
import {
  resourceStateAsOf,
  resourceStateAsOfPipeline,
  resourceStateByScan,
  type ResourceStateQuery,
} from '../../../lib/history-query/resource-state.js'
import { HISTORY_COLLECTION } from '../../../lib/history-query/types.js'
import { freshDb, isFerretDb } from '../store/helpers.js'
import { CLUSTER, allStories } from './fixtures.js'
import { at, seedHistory } from './seed-history.js'

const NOT_IMPLEMENTED = 238

/** namespace/name@resourceVersion, the way a reader checks a state at a glance. */
const summary = (rows: { namespace: string | null; name: string; resourceVersion: string }[]) =>
  rows.map((r) => `${r.namespace ?? '-'}/${r.name}@${r.resourceVersion}`)

describe('the state of a whole resource as of T', () => {
  let db: Db
  let mongo: { disconnectDB: () => Promise<void> }
  const configMapsAt = (hhmm: string, namespace?: string): ResourceStateQuery => ({
    cluster: CLUSTER,
    resource: 'v1/configmaps',
    at: at(hhmm),
    ...(namespace === undefined ? {} : { namespace }),
  })

  beforeAll(async () => {
    ;({ db, mongo } = await freshDb())
    await seedHistory(db, allStories)
  })
  afterAll(async () => {
    await db.dropDatabase()
    await mongo.disconnectDB()
  })

  // The three points of the proof, and the moment before anything was recorded.
  const expected: Record<string, string[]> = {
    // settings and old exist; tie's later version (rv 1000, same millisecond as 999) wins;
    // late is not created yet; the other cluster's settings never shows.
    '10:10': ['batch/tie@1000', 'shop/old@202', 'shop/settings@200'],
    // old was deleted at 10:20; settings changed at 10:15; late still to come.
    '10:22': ['batch/tie@1000', 'shop/settings@215'],
    // late created at 10:25.
    '10:30': ['batch/late@225', 'batch/tie@1000', 'shop/settings@215'],
    '09:00': [],
  }

  it.each(Object.entries(expected))(
    'as of %s lists the objects that existed then',
    async (hhmm, state) => {
      const answer = await resourceStateAsOf(db, configMapsAt(hhmm))
      expect(summary(answer.rows)).toEqual(state)
    },
  )

  it('keeps each row to what the table prints: uid, namespace, name, resourceVersion, when, type', async () => {
    const { rows } = await resourceStateAsOf(db, configMapsAt('10:22'))
    expect(rows.find((r) => r.name === 'settings')).toEqual({
      uid: 'settings-uid',
      namespace: 'shop',
      name: 'settings',
      resourceVersion: '215',
      observedAt: at('10:15'),
      type: 'MODIFIED',
      complete: true,
    })
  })

  it('filters one namespace', async () => {
    const answer = await resourceStateAsOf(db, configMapsAt('10:30', 'batch'))
    expect(summary(answer.rows)).toEqual(['batch/late@225', 'batch/tie@1000'])
  })

  it('runs the one aggregation where the server has $first, and the same-answer scan where not', async () => {
    const ferret = await isFerretDb(db)
    const answer = await resourceStateAsOf(db, configMapsAt('10:22'))
    expect(answer.method).toBe(ferret ? 'scan' : 'aggregation')
    const aggregation = await db
      .collection(HISTORY_COLLECTION)
      .aggregate(resourceStateAsOfPipeline(configMapsAt('10:22')))
      .toArray()
      .then(
        (rows) => ({ rows }),
        (error: { code?: number }) => ({ code: error.code }),
      )
    if (ferret) expect(aggregation).toEqual({ code: NOT_IMPLEMENTED })
    else expect(summary((aggregation as { rows: never[] }).rows)).toEqual(expected['10:22'])
    expect(summary(await resourceStateByScan(db, configMapsAt('10:22')))).toEqual(expected['10:22'])
  })
})
