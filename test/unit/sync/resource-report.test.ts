import { describe, expect, it } from 'vitest'
import {
  addReportWriteCounts,
  addWriteCounts,
  emptyReportWriteCounts,
} from '../../../lib/sync/resource-report.js'
import type { WriteCounts } from '../../../lib/store/writes/write-op.js'

const counts: WriteCounts = {
  inserted: 1,
  updated: 2,
  deleted: 3,
  skippedByGuard: 4,
  retriedChunks: 5,
  failedChunks: 6,
  pacingSlowdowns: 7,
  deadLettered: 8,
}

describe('the report write counts', () => {
  it('adds the writer’s counts under the report’s names, leaving skippedByGuard to the caller', () => {
    const report = emptyReportWriteCounts()

    addWriteCounts(report, counts)
    addWriteCounts(report, counts)

    expect(report).toEqual({
      inserted: 2,
      updated: 4,
      deleted: 6,
      deadLettered: 16,
      chunkRetries: 10,
      chunkFailures: 12,
      pacingSlowdowns: 14,
    })
  })

  it('adds one report’s writes to another’s, and only those', () => {
    const into = { ...emptyReportWriteCounts(), events: 3 }
    const from = { ...emptyReportWriteCounts(), listed: 9 }
    addWriteCounts(from, counts)

    addReportWriteCounts(into, from)

    const { listed: _listed, ...written } = from
    expect(into).toEqual({ ...written, events: 3 })
  })
})
