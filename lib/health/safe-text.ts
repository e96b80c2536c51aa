import { redactText } from '../redact.js'

/** Longest error text the health body carries: enough to say what is wrong, not a stack dump. */
const MAX_LENGTH = 500

/**
 * Text from elsewhere (a stored `lastError`, a driver error) made fit for an
 * HTTP body that callers may log or show: the log redactor (passwords,
 * tokens, every registered secret value), then, stricter than the logs, the
 * whole user-info of any URL, so that `mongodb://user:p@ss@host` cannot leak
 * part of an unencoded password either.
 */
export function safeText(text: string): string {
  const scrubbed = redactText(text).replace(/([a-z][a-z0-9+.-]*:\/\/)\S*@/gi, '$1***@')
  return scrubbed.length > MAX_LENGTH ? `${scrubbed.slice(0, MAX_LENGTH)}...` : scrubbed
}
