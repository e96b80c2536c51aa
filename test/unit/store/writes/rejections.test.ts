import { describe, expect, it } from 'vitest'
import { registerSecret } from '../../../../lib/redact.js'
import type { InventoryDocument } from '../../../../lib/store/documents/mapper.js'
import {
  boundedMessage,
  buildDocument,
  duplicateIsOnId,
  MAX_DOCUMENT_BYTES,
  rejectionOf,
  sortInsertErrors,
  writeAroundRejections,
} from '../../../../lib/store/writes/rejections.js'

/** One entry of a bulk write's writeErrors, as driver 7 exposes it (code, index, errmsg, err). */
const writeError = (index: number, code: number, errmsg: string, extra: object = {}) => ({
  index,
  code,
  errmsg,
  err: { index, code, errmsg, ...extra },
})
const serverError = (code: number, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name: 'MongoServerError', code, ...extra })
const bulkError = (writeErrors: unknown[], extra: object = {}) =>
  Object.assign(new Error('bulk write failed'), {
    name: 'MongoBulkWriteError',
    code: 11000,
    writeErrors,
    ...extra,
  })

const mongoDuplicate = (index: number, on: string) =>
  writeError(
    index,
    11000,
    `E11000 duplicate key error collection: inv.configmaps index: ${on === '_id' ? '_id_' : on} dup key: { }`,
    { keyPattern: { [on]: 1 } },
  )
const ferretDuplicate = (index: number) =>
  writeError(index, 11000, 'E11000 duplicate key error collection: inv.configmaps')

describe('which errors are rejections', () => {
  it('calls a duplicate key, a too large document, an invalid key and a failed validator rejections', () => {
    expect(rejectionOf(mongoDuplicate(0, 'name'))).toMatchObject({
      kind: 'duplicate-key',
      code: 11000,
    })
    expect(rejectionOf(serverError(10334, 'BSONObj size: 17000000 is invalid'))).toMatchObject({
      kind: 'too-large',
    })
    expect(
      rejectionOf(writeError(0, 2, `invalid key: "a.b" (key must not contain '.' sign)`)),
    ).toMatchObject({ kind: 'invalid-document', code: 2 })
    expect(rejectionOf(serverError(121, 'Document failed validation'))).toMatchObject({
      kind: 'validation-failed',
    })
  })

  it("reads FerretDB's InternalError for a unique index violation inside update as a duplicate key", () => {
    const ferret = serverError(
      1,
      "[msg_update.go:133 handler.(*Handler).updateDocument] constraint failed: UNIQUE constraint failed: index 'cm_6429a72d_u_name' (2067)",
    )
    expect(rejectionOf(ferret)).toMatchObject({ kind: 'duplicate-key', code: 1 })
    expect(rejectionOf(serverError(1, 'some other internal error'))).toBeUndefined()
  })

  it('never calls a network, failover, credentials or unknown error a rejection', () => {
    const network = Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' })
    const selection = Object.assign(new Error('no server'), { name: 'MongoServerSelectionError' })
    expect(rejectionOf(network)).toBeUndefined()
    expect(rejectionOf(selection)).toBeUndefined()
    expect(rejectionOf(serverError(91, 'shutdown in progress'))).toBeUndefined()
    expect(rejectionOf(serverError(18, 'Authentication failed'))).toBeUndefined()
    expect(rejectionOf(serverError(13, 'not authorized'))).toBeUndefined()
    expect(rejectionOf(new Error('a bug'))).toBeUndefined()
    expect(rejectionOf(undefined)).toBeUndefined()
  })

  it('does not call a duplicate key a rejection when the server labels the write retryable', () => {
    const retryable = serverError(11000, 'E11000', { errorLabels: ['RetryableWriteError'] })
    expect(rejectionOf(retryable)).toBeUndefined()
  })

  it('keeps no credential and no more than a bounded message', () => {
    registerSecret('s3cr3t-value-123')
    const said = boundedMessage(`dup key: { token: "s3cr3t-value-123" } ${'x'.repeat(5000)}`)
    expect(said).not.toContain('s3cr3t-value-123')
    expect(said.length).toBeLessThanOrEqual(1003)
  })
})

describe('duplicate keys: a race on _id, or another unique index', () => {
  it('reads the index from keyPattern or the message (MongoDB)', () => {
    expect(duplicateIsOnId(mongoDuplicate(0, '_id'))).toBe(true)
    expect(duplicateIsOnId(mongoDuplicate(0, 'name'))).toBe(false)
    expect(
      duplicateIsOnId({ errmsg: 'E11000 duplicate key error index: unique_slot dup key' }),
    ).toBe(false)
  })

  it('does not guess when the server does not say (FerretDB)', () => {
    expect(duplicateIsOnId(ferretDuplicate(0))).toBeUndefined()
  })

  it('sorts the errors of an insert: races and unplaced duplicates for the slow path, rejections for dead letters', () => {
    const sorted = sortInsertErrors(
      bulkError([
        mongoDuplicate(0, '_id'),
        mongoDuplicate(1, 'slot'),
        ferretDuplicate(2),
        writeError(3, 2, 'invalid key'),
      ]),
    )
    expect(sorted.duplicates).toEqual([0, 2])
    expect([...sorted.rejected.keys()]).toEqual([1, 3])
    expect(sorted.rejected.get(1)).toMatchObject({ kind: 'duplicate-key' })
    expect(sorted.rejected.get(3)).toMatchObject({ kind: 'invalid-document' })
  })

  it('throws an insert error that carries anything but duplicates and rejections', () => {
    const transientOne = bulkError([mongoDuplicate(0, 'slot'), writeError(1, 91, 'shutting down')])
    expect(() => sortInsertErrors(transientOne)).toThrow(transientOne)
    const noDetail = Object.assign(new Error('reset'), { name: 'MongoNetworkError' })
    expect(() => sortInsertErrors(noDetail)).toThrow(noDetail)
  })
})

describe('writing around rejections', () => {
  const items = ['a', 'b', 'c']

  it('takes per-statement errors and the matched count as the server gave them (MongoDB)', async () => {
    const rejected: string[] = []
    const written: string[] = []
    const matched = await writeAroundRejections(
      bulkError([mongoDuplicate(1, 'slot')], { result: { matchedCount: 2 } }),
      items,
      (item) => {
        written.push(item)
        return Promise.resolve(1)
      },
      (item) => rejected.push(item),
    )
    expect(matched).toBe(2)
    expect(rejected).toEqual(['b'])
    expect(written).toEqual([])
  })

  it('writes each item alone after a command failed as a whole on a rejection (FerretDB update)', async () => {
    const rejected: string[] = []
    const unique = serverError(1, 'UNIQUE constraint failed: index x (2067)')
    const matched = await writeAroundRejections(
      bulkError([], { code: 1, message: unique.message }),
      items,
      (item) => (item === 'b' ? Promise.reject(unique) : Promise.resolve(1)),
      (item, rejection) => rejected.push(`${item}:${rejection.kind}`),
    )
    expect(matched).toBe(2)
    expect(rejected).toEqual(['b:duplicate-key'])
  })

  it('throws whatever is not a rejection, before or during the one-by-one writes', async () => {
    const network = Object.assign(new Error('reset'), { name: 'MongoNetworkError' })
    const noop = () => undefined
    await expect(
      writeAroundRejections(network, items, () => Promise.resolve(1), noop),
    ).rejects.toBe(network)
    await expect(
      writeAroundRejections(
        serverError(11000, 'E11000'),
        items,
        (item) => (item === 'c' ? Promise.reject(network) : Promise.resolve(1)),
        noop,
      ),
    ).rejects.toBe(network)
  })
})

describe('documents that cannot be sent', () => {
  const doc = (data: string) =>
    ({ _id: 'c/u', object: { data }, resourceVersion: '1' }) as unknown as InventoryDocument

  it('refuses a document over the 16 MB BSON limit before sending it', () => {
    const built = buildDocument(() => doc('x'.repeat(MAX_DOCUMENT_BYTES)))
    expect(built).toMatchObject({ rejection: { kind: 'too-large', code: null } })
    expect('rejection' in built && built.rejection.message).toMatch(/over the 16777216-byte/)
  })

  it('lets a document under the limit through', () => {
    const built = buildDocument(() => doc('x'.repeat(1000)))
    expect('doc' in built).toBe(true)
  })

  it('refuses an object the mapper cannot turn into a document', () => {
    const built = buildDocument(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'uid')")
    })
    expect(built).toMatchObject({ rejection: { kind: 'mapping', code: null } })
  })
})
