import { describe, expect, it } from 'vitest'
import { ttlIndexesOf } from '../../../../lib/store/bookkeeping/expiry.js'

describe('ttlIndexesOf', () => {
  it('expires tombstones by deletedAt and dead letters by lastFailedAt, after the configured days', () => {
    expect(ttlIndexesOf({ tombstoneDays: 7, deadLetterDays: 14 })).toEqual({
      sync_tombstones: { key: { deletedAt: 1 }, name: 'deletedAt_ttl', expireAfterSeconds: 604800 },
      sync_dead_letters: {
        key: { lastFailedAt: 1 },
        name: 'lastFailedAt_ttl',
        expireAfterSeconds: 1209600,
      },
    })
  })
})
