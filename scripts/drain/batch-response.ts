import type { SQSRecord } from 'aws-lambda'

/** Which records of a batch failed, and why the whole batch did when it did. */
export type BatchVerdict =
  | { kind: 'items'; failed: Set<string>; result?: Record<string, unknown> }
  | { kind: 'all'; reason: string; result?: Record<string, unknown> }

/**
 * Reads a handler's response as an event source mapping with
 * functionResponseType ReportBatchItemFailures does (AWS Lambda developer guide,
 * "Handling errors for an SQS event source"): no response, no batchItemFailures or an
 * empty list is complete success; a listed messageId fails that record alone; an
 * identifier that is empty, not a string, or not a messageId of the batch, or a
 * response of the wrong shape, fails the whole batch.
 */
export function readBatchResponse(response: unknown, records: SQSRecord[]): BatchVerdict {
  if (response === undefined || response === null) return { kind: 'items', failed: new Set() }
  if (typeof response !== 'object' || Array.isArray(response))
    return { kind: 'all', reason: `invalid response: ${preview(response)}` }
  const { batchItemFailures, ...rest } = response as Record<string, unknown>
  const result = Object.keys(rest).length > 0 ? rest : undefined
  if (batchItemFailures === undefined || batchItemFailures === null)
    return { kind: 'items', failed: new Set(), ...(result && { result }) }
  if (!Array.isArray(batchItemFailures))
    return {
      kind: 'all',
      reason: `batchItemFailures is not a list: ${preview(batchItemFailures)}`,
      ...(result && { result }),
    }
  const ids = new Set(records.map((record) => record.messageId))
  const failed = new Set<string>()
  for (const item of batchItemFailures) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier
    if (typeof id !== 'string' || !ids.has(id))
      return {
        kind: 'all',
        reason: `invalid itemIdentifier: ${preview(item)}`,
        ...(result && { result }),
      }
    failed.add(id)
  }
  return { kind: 'items', failed, ...(result && { result }) }
}

const preview = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 200 ? `${text.slice(0, 200)}...` : text
}
