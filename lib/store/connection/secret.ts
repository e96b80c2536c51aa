import { SyncError } from '../../errors.js'
import { registerSecret } from '../../redact.js'

/**
 * The MONGODB_SECRET_ID secret: JSON `{"uri": "mongodb://..."}` or the bare
 * connection string. Errors name the secret and what is wrong, never the value.
 * The URI and its password are registered with the redactor, so neither can
 * reach a log line even inside a driver error message.
 */
export function parseMongoSecret(text: string, secretId: string): string {
  const problem = (what: string) =>
    new SyncError(`MongoDB secret ${secretId} ${what}`, {
      context: { operation: 'parseMongoSecret', secretId },
    })
  const trimmed = text.trim()
  if (trimmed === '')
    throw problem(
      'is empty: expected JSON {"uri": "mongodb://..."} or a mongodb:// connection string',
    )
  let uri: unknown = trimmed
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      throw problem('looks like JSON but does not parse: expected {"uri": "mongodb://..."}')
    }
    uri = (parsed as { uri?: unknown }).uri
    if (typeof uri !== 'string' || uri.trim() === '') {
      throw problem('is JSON without a string field "uri": expected {"uri": "mongodb://..."}')
    }
  }
  const value = (uri as string).trim()
  if (!/^mongodb(\+srv)?:\/\//.test(value)) {
    throw problem(
      'does not hold a connection string: expected one starting with mongodb:// or mongodb+srv://',
    )
  }
  registerUriSecrets(value)
  return value
}

/** Registers a connection string and its password (raw and percent-decoded) with the redactor. */
export function registerUriSecrets(uri: string): void {
  registerSecret(uri)
  const password = /^[a-z+]+:\/\/[^:/@]*:([^@/]+)@/i.exec(uri)?.[1]
  if (password === undefined) return
  registerSecret(password)
  try {
    registerSecret(decodeURIComponent(password))
  } catch {
    // Not valid percent-encoding: the raw form is registered already.
  }
}
