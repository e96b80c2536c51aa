import { ConfigError, NotRetriedError, SyncError, TransientError } from './errors.js'
import {
  fatalMongoAuthCodes,
  transientAwsNames,
  transientHttpStatus,
  transientMongoCodes,
  transientMongoNames,
  transientNetworkCodes,
} from './error-codes.js'

/**
 * One place that says which failures are worth another attempt.
 *
 *  - transient: the network or a server hiccup; retry with backoff.
 *  - expired:   HTTP 410 (a continue token or a resourceVersion too old);
 *               retrying the same request cannot help, the caller relists.
 *  - fatal:     credentials, permissions, bad input, a missing resource, the
 *               deadline, an open circuit breaker; and anything unknown.
 *
 * Two retry predicates read it (docs/resilience.md#retry-and-error-handling).
 * isKnownFatal is the fault-tolerance contract's default `isFatal`: only a
 * failure recognised as fatal stops the retries, so an unknown error is
 * retried like any other. notTransient is the sync's own, stricter one:
 * unknown errors are bugs and surface at once, and a 410 goes back to the
 * caller, who relists.
 */
export type ErrorKind = 'transient' | 'expired' | 'fatal'

export interface Classification {
  readonly kind: ErrorKind
  /** Short machine-readable reason, e.g. `http-503`, `ECONNRESET`, `mongo-auth`. */
  readonly reason: string
  /** Server-requested wait (HTTP Retry-After), in milliseconds. */
  readonly retryAfterMs?: number
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  statusCode?: unknown
  status?: unknown
  errorLabels?: unknown
  hasErrorLabel?: unknown
  headers?: unknown
  cause?: unknown
  $metadata?: { httpStatusCode?: unknown }
  $retryable?: unknown
}

function asErrorLike(e: unknown): ErrorLike | undefined {
  return e !== null && typeof e === 'object' ? e : undefined
}

/** HTTP status of a Kubernetes ApiException, a watch Status object, or our KubeApiError. */
function httpStatusOf(error: unknown): number | undefined {
  const e = asErrorLike(error)
  if (!e) return undefined
  if (typeof e.name === 'string' && e.name.startsWith('Mongo')) return undefined
  for (const v of [e.code, e.statusCode, e.status])
    if (typeof v === 'number' && v >= 100 && v < 600) return v
  return undefined
}

function retryAfterMsOf(error: ErrorLike): number | undefined {
  const headers = error.headers
  let raw: unknown
  if (headers && typeof headers === 'object') {
    const h = headers as Record<string, unknown> & { get?: (k: string) => unknown }
    raw =
      typeof h.get === 'function' ? h.get('retry-after') : (h['retry-after'] ?? h['Retry-After'])
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(String(raw))
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function hasLabel(e: ErrorLike, label: string): boolean {
  if (typeof e.hasErrorLabel === 'function') {
    return Boolean((e.hasErrorLabel as (l: string) => boolean).call(e, label))
  }
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label)
}

/** How deep classify() follows `cause` chains (wrappers of wrappers). */
const MAX_CAUSE_DEPTH = 5

/** A classification as this file builds it: `unknown` marks a fatal that nothing here recognised. */
type Verdict = Classification & { readonly unknown?: true }

/**
 * Classifies any error the project meets. Our own errors by class: the
 * TransientError and NotRetriedError bases say their kind, and wrappers
 * (RetryExhaustedError and friends) are classified by their cause.
 * Third-party errors by their own classes and codes: Kubernetes (an
 * ApiException's or KubeApiError's HTTP status, watch Status objects, socket
 * errors), MongoDB (driver classes, labels, server codes), AWS SDK v3
 * (throttling, 5xx, access denied).
 */
export function classify(error: unknown): Classification {
  const { kind, reason, retryAfterMs } = verdictOf(error, 0)
  return retryAfterMs === undefined ? { kind, reason } : { kind, reason, retryAfterMs }
}

function verdictOf(error: unknown, depth: number): Verdict {
  const e = asErrorLike(error)
  if (!e) return { kind: 'fatal', reason: 'not-an-error', unknown: true }
  return classifyOwn(error, depth) ?? classifyThirdParty(error, e, depth)
}

function classifyOwn(error: unknown, depth: number): Verdict | undefined {
  if (error instanceof ConfigError) return { kind: 'fatal', reason: 'config' }
  if (error instanceof NotRetriedError) return { kind: 'fatal', reason: error.reason }
  if (error instanceof TransientError) return { kind: 'transient', reason: error.reason }
  if (error instanceof SyncError && error.cause !== undefined && depth < MAX_CAUSE_DEPTH)
    return verdictOf(error.cause, depth + 1)
  return undefined
}

function classifyThirdParty(error: unknown, e: ErrorLike, depth: number): Verdict {
  const name = typeof e.name === 'string' ? e.name : ''
  if (name.startsWith('Mongo')) return classifyMongo(e, name, depth)
  const aws = classifyAws(e, name)
  if (aws) return aws
  const status = httpStatusOf(error)
  if (status !== undefined) return classifyHttpStatus(status, e)

  const code = e.code
  const message = typeof e.message === 'string' ? e.message : ''
  if (typeof code === 'string' && transientNetworkCodes.has(code))
    return { kind: 'transient', reason: code }
  if (/socket hang up/i.test(message)) return { kind: 'transient', reason: 'socket hang up' }
  // A DOMException from AbortSignal.timeout(), or an abort in a library's own timeout.
  if (name === 'TimeoutError' || name === 'AbortError')
    return { kind: 'transient', reason: 'request-timeout' }
  if (e.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    const inner = verdictOf(e.cause, depth + 1)
    if (inner.kind !== 'fatal') return inner
  }
  return { kind: 'fatal', reason: name || 'unknown', unknown: true }
}

/**
 * MongoDB driver errors: the fault-tolerance contract's fatal case (code 18) first, so an auth failure
 * wrapped in a server-selection error still stops at once.
 */
function classifyMongo(e: ErrorLike, name: string, depth: number): Classification {
  const code = e.code
  if (typeof code === 'number' && fatalMongoAuthCodes.has(code))
    return { kind: 'fatal', reason: 'mongo-auth' }
  if (
    name === 'MongoAuthError' ||
    name === 'MongoParseError' ||
    name === 'MongoMissingCredentialsError'
  ) {
    return { kind: 'fatal', reason: 'mongo-config' }
  }
  const inner =
    e.cause !== undefined && depth < MAX_CAUSE_DEPTH ? verdictOf(e.cause, depth + 1) : undefined
  if (inner?.reason === 'mongo-auth') return inner
  if (transientMongoNames.has(name)) return { kind: 'transient', reason: name }
  if (hasLabel(e, 'RetryableWriteError') || hasLabel(e, 'ResetPool') || hasLabel(e, 'NetworkError'))
    return { kind: 'transient', reason: 'mongo-retryable' }
  if (typeof code === 'number' && transientMongoCodes.has(code))
    return { kind: 'transient', reason: `mongo-${code}` }
  return { kind: 'fatal', reason: typeof code === 'number' ? `mongo-${code}` : name }
}

/** AWS SDK v3 errors carry `$metadata`; undefined when this is not one. */
function classifyAws(e: ErrorLike, name: string): Classification | undefined {
  if (!e.$metadata || typeof e.$metadata !== 'object') return undefined
  const status = e.$metadata.httpStatusCode
  if (transientAwsNames.has(name) || e.$retryable)
    return { kind: 'transient', reason: `aws-${name}` }
  if (typeof status === 'number' && (status === 429 || status >= 500))
    return { kind: 'transient', reason: `aws-${status}` }
  if (typeof status === 'number' || name !== '')
    return { kind: 'fatal', reason: `aws-${name || String(status)}` }
  return undefined
}

function classifyHttpStatus(status: number, e: ErrorLike): Classification {
  if (status === 410) return { kind: 'expired', reason: 'http-410' }
  if (!transientHttpStatus.has(status)) return { kind: 'fatal', reason: `http-${status}` }
  const retryAfterMs = retryAfterMsOf(e)
  return retryAfterMs === undefined
    ? { kind: 'transient', reason: `http-${status}` }
    : { kind: 'transient', reason: `http-${status}`, retryAfterMs }
}

export const isTransient = (error: unknown): boolean => classify(error).kind === 'transient'

/**
 * The project's fatal classification, and retryWithBackoff's default
 * `isFatal`: true for a failure classify() recognises as fatal
 * (authentication, authorisation, bad input or configuration, MongoDB code
 * 18, HTTP 400/401/403/404/422, the deadline, an open circuit breaker).
 * False for a transient error, a 410, and an error nothing recognises: the
 * fault-tolerance contract retries any error that is not called fatal.
 */
export const isKnownFatal = (error: unknown): boolean => {
  const verdict = verdictOf(error, 0)
  return verdict.kind === 'fatal' && verdict.unknown !== true
}

/**
 * The sync's own `isFatal`, stricter than the default: anything but a
 * transient error stops the retries. An unknown error is a bug and surfaces
 * at once instead of hiding behind retries; a 410 is the caller's to handle
 * (it relists), since repeating the same request cannot help.
 */
export const notTransient = (error: unknown): boolean => !isTransient(error)
