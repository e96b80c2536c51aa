import { describe, expect, it } from 'vitest'
import { RetryExhaustedError } from '../../../../lib/errors.js'
import type { KubeObject } from '../../../../lib/kube/types.js'
import {
  deadLetteredIn,
  deadLetterFields,
  failureOfError,
  failureOfRejection,
  recordFailureOp,
} from '../../../../lib/store/bookkeeping/dead-letters.js'

const object: KubeObject = {
  metadata: { uid: 'u-1', name: 'app-config', namespace: 'payments', resourceVersion: '42' },
}
const scope = { cluster: 'prod', resource: 'v1/configmaps', source: 'reconcile' as const }
const at = new Date('2026-01-02T03:04:05Z')
const duplicate = failureOfRejection({
  kind: 'duplicate-key',
  code: 11000,
  message: 'E11000 duplicate key error',
})

describe('the dead letter of one operation', () => {
  it('names the object, the version tried, the operation and why it failed', () => {
    expect(deadLetterFields({ type: 'insert', object }, duplicate, scope, at)).toEqual({
      _id: 'prod/v1/configmaps/u-1',
      cluster: 'prod',
      resource: 'v1/configmaps',
      uid: 'u-1',
      namespace: 'payments',
      name: 'app-config',
      resourceVersion: '42',
      operation: 'insert',
      kind: 'duplicate-key',
      reason: 'E11000 duplicate key error',
      code: 11000,
      lastFailedAt: at,
      source: 'reconcile',
    })
  })

  it('records a delete by its uid and the version it was gone at', () => {
    const fields = deadLetterFields(
      { type: 'delete', uid: 'u-2', deletedAtResourceVersion: '77' },
      duplicate,
      { ...scope, source: 'watch' },
      at,
    )
    expect(fields).toMatchObject({
      _id: 'prod/v1/configmaps/u-2',
      uid: 'u-2',
      namespace: null,
      name: null,
      resourceVersion: '77',
      operation: 'delete',
      source: 'watch',
    })
  })

  it('counts each failure and keeps the time of the first', () => {
    const op = recordFailureOp(deadLetterFields({ type: 'upsert', object }, duplicate, scope, at))
    expect(op).toEqual({
      updateOne: {
        filter: { _id: 'prod/v1/configmaps/u-1' },
        update: {
          $set: expect.objectContaining({ lastFailedAt: at, reason: 'E11000 duplicate key error' }),
          $inc: { attempts: 1 },
          $setOnInsert: { firstFailedAt: at },
        },
        upsert: true,
      },
    })
  })

  it('does not blank the namespace and name an earlier failure stored when a delete fails', () => {
    const fields = deadLetterFields(
      { type: 'delete', uid: 'u-1', deletedAtResourceVersion: '50' },
      duplicate,
      scope,
      at,
    )
    const { updateOne } = recordFailureOp(fields) as {
      updateOne: { update: { $set: object; $setOnInsert: object } }
    }
    expect(updateOne.update.$set).not.toHaveProperty('namespace')
    expect(updateOne.update.$setOnInsert).toEqual({
      firstFailedAt: at,
      namespace: null,
      name: null,
    })
  })
})

describe('the failure of a chunk that gave up', () => {
  it('keeps the server code of the last error and the message with its reason', () => {
    const last = Object.assign(new Error('not primary'), {
      name: 'MongoServerError',
      code: 10107,
    })
    const failure = failureOfError(
      new RetryExhaustedError('bulk write chunk 1/3 failed after 5 attempts: not primary', {
        cause: last,
      }),
    )
    expect(failure).toEqual({
      kind: 'failed',
      code: 10107,
      reason: 'mongo-10107: bulk write chunk 1/3 failed after 5 attempts: not primary',
    })
  })

  it('has no code when nothing answered', () => {
    const reset = Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' })
    expect(failureOfError(reset)).toMatchObject({ code: null, reason: /^MongoNetworkError: / })
  })

  it('reads how many operations a failed write dead-lettered from its counts', () => {
    expect(deadLetteredIn(Object.assign(new Error('x'), { counts: { deadLettered: 3 } }))).toBe(3)
    expect(deadLetteredIn(new Error('x'))).toBe(0)
  })
})
