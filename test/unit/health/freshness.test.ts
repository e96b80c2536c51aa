import { describe, expect, it } from 'vitest'
import {
  ageSeconds,
  assessResource,
  problemsOf,
  unknownResource,
  type StateFields,
} from '../../../lib/health/freshness.js'

const now = new Date('2026-11-28T12:00:00.000Z')
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000)
const thresholds = { maxSyncAgeSeconds: 1800, maxWatchAgeSeconds: 180 }

const fresh: StateFields = {
  lastFullSyncAt: ago(600),
  lastWatchAt: ago(30),
  needsRelist: false,
  relistReason: null,
  lastError: null,
}

describe('resource freshness', () => {
  it('is healthy when the last complete sync and the last watch window are within their limits', () => {
    const health = assessResource('v1/pods', fresh, now, thresholds)
    expect(health).toEqual({
      resource: 'v1/pods',
      healthy: true,
      reasons: [],
      lastFullSyncAt: '2026-11-28T11:50:00.000Z',
      lastFullSyncAgeSeconds: 600,
      lastWatchAt: '2026-11-28T11:59:30.000Z',
      lastWatchAgeSeconds: 30,
      needsRelist: false,
      relistReason: null,
      lastError: null,
    })
  })

  it('is healthy exactly at the limits and stale one second past them', () => {
    const atLimit = { ...fresh, lastFullSyncAt: ago(1800), lastWatchAt: ago(180) }
    expect(assessResource('v1/pods', atLimit, now, thresholds).reasons).toEqual([])
    const past = { ...fresh, lastFullSyncAt: ago(1801), lastWatchAt: ago(181) }
    expect(assessResource('v1/pods', past, now, thresholds).reasons).toEqual([
      'sync-stale',
      'watch-stale',
    ])
  })

  it('calls a resource with no sync_state document never synced and never watched', () => {
    const health = assessResource('v1/pods', null, now, thresholds)
    expect(health.healthy).toBe(false)
    expect(health.reasons).toEqual(['never-synced', 'watch-never-ran'])
    expect(health.lastFullSyncAgeSeconds).toBeNull()
    expect(health.lastWatchAgeSeconds).toBeNull()
  })

  it('is unhealthy when the resource needs a relist, however fresh, and says why', () => {
    const health = assessResource(
      'v1/pods',
      { ...fresh, needsRelist: true, relistReason: 'watch 410 Gone' },
      now,
      thresholds,
    )
    expect(health.healthy).toBe(false)
    expect(health.reasons).toEqual(['needs-relist'])
    expect(health.relistReason).toBe('watch 410 Gone')
  })

  it('does not check the watch when its limit is 0', () => {
    const health = assessResource('v1/pods', { ...fresh, lastWatchAt: null }, now, {
      ...thresholds,
      maxWatchAgeSeconds: 0,
    })
    expect(health.healthy).toBe(true)
    expect(health.lastWatchAgeSeconds).toBeNull()
  })

  it('reports the last error through the scrubber, without making the resource unhealthy', () => {
    const health = assessResource(
      'v1/pods',
      { ...fresh, lastError: { message: 'boom secret-value', at: ago(5) } },
      now,
      thresholds,
      (text) => text.replace('secret-value', '***'),
    )
    expect(health.healthy).toBe(true)
    expect(health.lastError).toEqual({ message: 'boom ***', at: '2026-11-28T11:59:55.000Z' })
  })

  it('counts a timestamp ahead of the clock as age 0', () => {
    expect(ageSeconds(new Date(now.getTime() + 5000), now)).toBe(0)
    expect(ageSeconds(ago(59.9), now)).toBe(59)
  })

  it('marks a resource whose state could not be read as unhealthy because MongoDB is unreachable', () => {
    expect(unknownResource('v1/pods')).toMatchObject({
      healthy: false,
      reasons: ['mongo-unreachable'],
    })
  })

  it('says in one sentence per failed check what is wrong', () => {
    const stale = assessResource(
      'apps/v1/deployments',
      { ...fresh, lastFullSyncAt: ago(2400), needsRelist: true, relistReason: 'gone' },
      now,
      thresholds,
    )
    expect(
      problemsOf([stale, assessResource('v1/pods', fresh, now, thresholds)], thresholds),
    ).toEqual([
      'apps/v1/deployments: last complete sync 2400 s ago (max 1800 s)',
      'apps/v1/deployments: needs a relist (gone)',
    ])
  })
})
