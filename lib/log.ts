import { Logger } from '@aws-lambda-powertools/logger'
import { AsyncLocalStorage } from 'node:async_hooks'
import { SyncError } from './errors.js'
import { classify } from './classify.js'
import { redactText } from './redact.js'

/**
 * The one logger: structured JSON, one event per line, fit for CloudWatch.
 * Every string value passes through redactText on its way out, so a password
 * in a connection string or a token in an error message never reaches a line.
 */
/** Fields every line logged inside a scope carries (the cluster of a fleet's run). */
const scope = new AsyncLocalStorage<Readonly<Record<string, string>>>()

/**
 * Runs `fn` with `fields` on every line it logs, however deep. Scoped by
 * async context, not set on the logger: one invocation works several clusters
 * at once, and a global key would cross between them.
 */
export function withLogFields<T>(fields: Readonly<Record<string, string>>, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, fn)
}

type Extra = Parameters<Logger['info']> extends [unknown, ...infer E] ? E : never

const scoped = (extra: Extra): Extra => {
  const fields = scope.getStore()
  return (fields ? [fields, ...extra] : extra) as Extra
}

/** Powertools' logger, plus the scope's fields before each line's own. */
class ScopedLogger extends Logger {
  override debug(input: Parameters<Logger['debug']>[0], ...extra: Extra): void {
    super.debug(input, ...scoped(extra))
  }
  override info(input: Parameters<Logger['info']>[0], ...extra: Extra): void {
    super.info(input, ...scoped(extra))
  }
  override warn(input: Parameters<Logger['warn']>[0], ...extra: Extra): void {
    super.warn(input, ...scoped(extra))
  }
  override error(input: Parameters<Logger['error']>[0], ...extra: Extra): void {
    super.error(input, ...scoped(extra))
  }
}

export const logger: Logger = new ScopedLogger({
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
