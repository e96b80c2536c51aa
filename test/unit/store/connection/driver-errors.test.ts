import { describe, expect, it } from 'vitest'
import { classify } from '../../../../lib/classify.js'
import { unwrapBulkWriteError } from '../../../../lib/store/connection/driver-errors.js'

/** The shape driver 7 throws when the network fails under insertMany/bulkWrite. */
function bulkWriteErrorAround(inner: Error, writeErrors: unknown[] = []) {
  return Object.assign(new Error(inner.message), {
    name: 'MongoBulkWriteError',
    errorResponse: inner,
    writeErrors,
  })
}

const networkTimeout = Object.assign(new Error('connection 1 to 127.0.0.1:27118 timed out'), {
  name: 'MongoNetworkTimeoutError',
})

describe('bulk write errors', () => {
  it('hands on the network error a bulk write wrapped, so it is retried as transient', () => {
    const wrapped = bulkWriteErrorAround(networkTimeout)
    expect(classify(wrapped).kind).toBe('fatal')
    expect(unwrapBulkWriteError(wrapped)).toBe(networkTimeout)
    expect(classify(unwrapBulkWriteError(wrapped)).kind).toBe('transient')
  })

  it('keeps a bulk write error that carries real write errors', () => {
    const withWriteErrors = bulkWriteErrorAround(new Error('x'), [{ index: 0, code: 2 }])
    expect(unwrapBulkWriteError(withWriteErrors)).toBe(withWriteErrors)
  })

  it('leaves every other error alone', () => {
    expect(unwrapBulkWriteError(networkTimeout)).toBe(networkTimeout)
  })
})
