import type { SQSEvent } from 'aws-lambda'
import { InvalidInputError } from './invocation-input.js'

/**
 * A worker's event is what Lambda's SQS event source sends: `Records`, each
 * with a message id, a receipt handle and a body. Anything else (a person
 * invoking the worker by hand with a task) is refused, naming what is
 * missing: a task goes through the queue, or through the planner's `inline`.
 */
export function parseSqsEvent(event: unknown, fn: string): SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records
  if (!Array.isArray(records)) {
    throw new InvalidInputError(
      `Invalid ${fn} input: expected an SQS event ({"Records": [...]}); to run tasks by hand, invoke reconcile or watch with "inline": true`,
    )
  }
  records.forEach((r: unknown, i) => {
    const rec = r as Record<string, unknown> | null
    for (const field of ['messageId', 'receiptHandle', 'body'] as const) {
      if (typeof rec?.[field] !== 'string')
        throw new InvalidInputError(`Invalid ${fn} input: Records[${i}].${field} is not a string`)
    }
  })
  return event as SQSEvent
}
