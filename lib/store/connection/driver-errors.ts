/**
 * Shapes of MongoDB driver errors the store looks at, read structurally so
 * that only client.ts imports the driver's code (rejections.ts its BSON sizer; others import types).
 */

const DUPLICATE_KEY = 11000

export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === DUPLICATE_KEY
}

/** `writeErrors` of a MongoBulkWriteError, which the driver gives as one or many. */
export function writeErrorsOf(error: unknown): Array<{ index: number; code?: number }> | undefined {
  const raw = (error as { writeErrors?: unknown } | null)?.writeErrors
  if (raw === undefined || raw === null) return undefined
  return (Array.isArray(raw) ? raw : [raw]) as Array<{ index: number; code?: number }>
}

/**
 * The error that really stopped a bulk write. When the network fails under a
 * bulkWrite/insertMany, driver 7 wraps the MongoNetworkError (or timeout) in a
 * MongoBulkWriteError with no write errors and the original as
 * `errorResponse`; classify() would see only the wrapper's name and call a
 * plain connection reset fatal. Errors with real write errors stay as they are.
 */
export function unwrapBulkWriteError(error: unknown): unknown {
  const e = error as { name?: unknown; errorResponse?: unknown; cause?: unknown } | null
  if (e?.name !== 'MongoBulkWriteError') return error
  if ((writeErrorsOf(error)?.length ?? 0) > 0) return error
  for (const inner of [e.errorResponse, e.cause]) if (inner instanceof Error) return inner
  return error
}
