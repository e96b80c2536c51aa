import { Logger } from '@aws-lambda-powertools/logger'
import { SyncError } from './errors.js'
import { classify } from './classify.js'
import { redactText } from './redact.js'

/**
 * The one logger: structured JSON, one event per line, fit for CloudWatch.
 * Every string value passes through redactText on its way out, so a password
 * in a connection string or a token in an error message never reaches a line.
 */
export const logger = new Logger({
  serviceName: 'kube-mongo-sync',
  jsonReplacerFn: (_key: string, value: unknown) =>
    typeof value === 'string' ? redactText(value) : value,
})

/** Structured fields of an error: name, message, reason, context, cause chain. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: { message: String(error) } }
  const fields: Record<string, unknown> = {
    name: error.name,
    message: error.message,
    reason: classify(error).reason,
  }
  if (error instanceof SyncError && Object.keys(error.context).length > 0)
    fields.context = error.context
  const code = (error as { code?: unknown }).code
  if (code !== undefined) fields.code = code
  if (error.cause !== undefined) fields.cause = errorFields(error.cause).error
  return { error: fields }
}
