import { describe, expect, it } from 'vitest'
import {
  clusterMetricValues,
  reconcileMetricValues,
  watchMetricValues,
} from '../../../lib/metrics/metric-values.js'
import { newReconcileReport } from '../../../lib/sync/reconcile-resource.js'
import { newWatchReport } from '../../../lib/sync/watch-resource.js'

const now = new Date('2026-11-28T12:00:00Z')
const asRecord = (values: ReturnType<typeof reconcileMetricValues>) =>
  Object.fromEntries(values.map((v) => [v.name, [v.value, v.unit]]))

describe('metric values', () => {
  it('turns a reconcile report into one value per count, with the age of the last complete sync', () => {
    const report = {
      ...newReconcileReport('v1/pods', 'complete'),
      listed: 120,
      inserted: 3,
      updated: 2,
      deleted: 1,
      unchanged: 114,
      pages: 3,
      chunkRetries: 1,
      pacingSlowdowns: 2,
      deadLettered: 1,
      durationMs: 850,
      lastCompleteSyncAt: '2026-11-28T11:59:30Z',
    }
    expect(asRecord(reconcileMetricValues(report, now))).toEqual({
      ObjectsListed: [120, 'Count'],
      ObjectsInserted: [3, 'Count'],
      ObjectsUpdated: [2, 'Count'],
      ObjectsDeleted: [1, 'Count'],
      ObjectsUnchanged: [114, 'Count'],
      PagesListed: [3, 'Count'],
      ChunkRetries: [1, 'Count'],
      ChunkFailures: [0, 'Count'],
      PacingSlowdowns: [2, 'Count'],
      DeadLetters: [1, 'Count'],
      SyncFailures: [0, 'Count'],
      DeletesHeld: [0, 'Count'],
      ResourceVersionResets: [0, 'Count'],
      SyncDurationMs: [850, 'Milliseconds'],
      CompleteSyncAgeSeconds: [30, 'Seconds'],
    })
  })

  it('names the deletes a held resource kept back, and counts it as a sync failure', () => {
    const held = { ...newReconcileReport('v1/pods', 'held'), listed: 50, deletesHeld: 150 }
    const values = asRecord(reconcileMetricValues(held, now))
    expect(values.DeletesHeld).toEqual([150, 'Count'])
    expect(values.SyncFailures).toEqual([1, 'Count'])
  })

  it('counts a rewrite after the resourceVersions went back', () => {
    const reset = { ...newReconcileReport('v1/pods', 'complete'), resourceVersionsReset: true }
    expect(asRecord(reconcileMetricValues(reset, now)).ResourceVersionResets).toEqual([1, 'Count'])
  })

  it('counts a failed or partial resource as a sync failure', () => {
    const failed = newReconcileReport('v1/pods', 'failed', 'boom')
    expect(asRecord(reconcileMetricValues(failed, now)).SyncFailures).toEqual([1, 'Count'])
    const partial = newReconcileReport('v1/pods', 'partial', 'deadline')
    expect(asRecord(reconcileMetricValues(partial, now)).SyncFailures).toEqual([1, 'Count'])
  })

  it('has nothing for a resource skipped because another invocation holds its lease', () => {
    expect(reconcileMetricValues(newReconcileReport('v1/pods', 'skipped'), now)).toEqual([])
    expect(watchMetricValues(newWatchReport('v1/pods', 'skipped'), now)).toEqual([])
  })

  it('turns a watch report into events, reconnects, relists and the event lag', () => {
    const report = {
      ...newWatchReport('v1/pods', 'complete'),
      events: 40,
      reconnects: 2,
      relists: 1,
      updated: 38,
      eventLagMaxMs: 420,
      durationMs: 50_000,
    }
    expect(asRecord(watchMetricValues(report, now))).toMatchObject({
      WatchEvents: [40, 'Count'],
      WatchReconnects: [2, 'Count'],
      Relists: [1, 'Count'],
      ObjectsUpdated: [38, 'Count'],
      WatchFailures: [0, 'Count'],
      EventLagMs: [420, 'Milliseconds'],
      WatchDurationMs: [50_000, 'Milliseconds'],
    })
  })

  it('has no event lag for a window without events', () => {
    const values = watchMetricValues(newWatchReport('v1/pods', 'complete'), now)
    expect(values.map((v) => v.name)).not.toContain('EventLagMs')
  })

  it('takes the oldest complete sync over the resources that have one, and counts the others', () => {
    const values = clusterMetricValues(
      [
        { status: 'complete', lastCompleteSyncAt: '2026-11-28T11:59:00Z' },
        { status: 'failed', lastCompleteSyncAt: '2026-11-28T11:00:00Z' },
        { status: 'failed', lastCompleteSyncAt: null },
        { status: 'failed' }, // state unknown (MongoDB unreachable): neither
      ],
      2,
      now,
    )
    expect(asRecord(values)).toEqual({
      BreakerOpens: [2, 'Count'],
      ResourcesNeverSynced: [1, 'Count'],
      OldestCompleteSyncAgeSeconds: [3600, 'Seconds'],
    })
  })

  it('leaves the oldest age out when no resource has one, so the stale alarm sees missing data', () => {
    const values = clusterMetricValues([{ status: 'failed' }], 0, now)
    expect(values.map((v) => v.name)).toEqual(['BreakerOpens', 'ResourcesNeverSynced'])
  })
})
