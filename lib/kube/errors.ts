import {
  NotRetriedError,
  SyncError,
  TransientError,
  type ErrorContext,
  type SyncErrorOptions,
} from '../errors.js'

/*
 * Errors of the Kubernetes edge, one class per failure. Each says its kind by
 * the base it extends (lib/errors.ts): TransientError (a timeout, a cut or a
 * silent stream: another attempt can cure it) or NotRetriedError (a protocol
 * bug, a resource the server does not serve). KubeApiError is the server's
 * own answer: classify() reads its HTTP status, the same field
 * @kubernetes/client-node's ApiException carries (410 = expired, 429/5xx =
 * transient, 401/403/404 = fatal). Each `reason` is the one classify()
 * reported before these were classes, so log queries keep matching. Messages
 * never carry a request's credentials or an object's content.
 */

/** A Kubernetes `Status` object (error bodies and watch ERROR events). */
export interface KubeStatus {
  readonly kind?: string
  readonly status?: string
  readonly message?: string
  readonly reason?: string
  readonly code?: number
  readonly metadata?: { readonly continue?: string; readonly resourceVersion?: string }
}

/** An HTTP error answer, or a watch ERROR event, from the API server. */
export class KubeApiError extends SyncError {
  override readonly name = 'KubeApiError'
  /** The HTTP status (a watch ERROR event: its Status code). */
  readonly code: number
  /** The parsed Status when the body was JSON, else the raw text (truncated). */
  readonly body: KubeStatus | string
  /** Lower-cased response headers (Retry-After on 429). */
  readonly headers: Readonly<Record<string, string>>
  /** Status.reason: Expired, Gone, Forbidden, NotFound, TooManyRequests... */
  readonly reason: string | undefined

  constructor(
    operation: string,
    code: number,
    body: KubeStatus | string,
    headers: Readonly<Record<string, string>> = {},
    context: ErrorContext = {},
  ) {
    const reason = typeof body === 'object' ? body.reason : undefined
    const detail = typeof body === 'object' ? body.message : body.slice(0, 200)
    super(`${operation}: HTTP ${code}${reason ? ` ${reason}` : ''}${detail ? `: ${detail}` : ''}`, {
      context: { operation, ...context },
    })
    this.code = code
    this.body = body
    this.headers = headers
    this.reason = reason
  }
}

/** K8S_REQUEST_TIMEOUT_MS passed without an answer; `cause` is the abort it caused. */
export class KubeRequestTimeoutError extends TransientError {
  override readonly name = 'KubeRequestTimeoutError'
  override readonly reason = 'request-timeout'
  readonly timeoutMs: number

  constructor(operation: string, timeoutMs: number, options: SyncErrorOptions = {}) {
    super(`${operation}: no answer within ${timeoutMs}ms`, {
      ...options,
      context: { operation, ...options.context },
    })
    this.timeoutMs = timeoutMs
  }
}

/**
 * A watch stream that stopped before it should: the server, a proxy or the
 * network cut it. The watcher resumes from the last resourceVersion it
 * yielded, so the change in flight is sent again, never skipped. The reason
 * is Node's code for a stream closed early.
 */
export abstract class KubeStreamClosedError extends TransientError {
  override readonly name: string = 'KubeStreamClosedError'
  override readonly reason = 'ERR_STREAM_PREMATURE_CLOSE'
}

/** The body ended inside an event (the server ends every event with a newline). */
export class WatchTruncatedError extends KubeStreamClosedError {
  override readonly name: string = 'WatchTruncatedError'
}

/**
 * A watch line that is not JSON: bytes lost in the middle of the stream (a
 * proxy that cut a stream and kept writing). Treated like a cut; persistent
 * damage still ends the window once the reconnection attempts are spent.
 */
export class WatchGarbledError extends WatchTruncatedError {
  override readonly name = 'WatchGarbledError'
}

/** The server closed a watch well before the timeoutSeconds we asked for. */
export class WatchEndedEarlyError extends KubeStreamClosedError {
  override readonly name = 'WatchEndedEarlyError'
}

/**
 * A watch that sent nothing, not even its end, well past its timeoutSeconds:
 * a dead connection, like a socket timeout (hence its reason).
 */
export class WatchStalledError extends TransientError {
  override readonly name = 'WatchStalledError'
  override readonly reason = 'ETIMEDOUT'
}

/** Well-formed JSON that is not a watch event (unknown type, no resourceVersion): a protocol bug. */
export class WatchParseError extends NotRetriedError {
  override readonly name = 'WatchParseError'
  override readonly reason = 'WatchParseError'
}

/**
 * An answer over its byte cap (K8S_LIST_PAGE_MAX_BYTES for a list page): the
 * read stopped at the cap, so no more than that was ever held. Asking again
 * for the same thing cannot help; the pager asks for a smaller `limit`.
 */
export class KubeResponseTooLargeError extends NotRetriedError {
  override readonly name = 'KubeResponseTooLargeError'
  override readonly reason = 'response-too-large'
  readonly maxBytes: number

  constructor(operation: string, maxBytes: number, context: ErrorContext = {}) {
    super(`${operation}: the answer is over the cap of ${maxBytes} bytes`, {
      context: { operation, ...context },
    })
    this.maxBytes = maxBytes
  }
}

/**
 * A watch event (one line) over K8S_WATCH_LINE_MAX_BYTES: the stream is
 * closed at the cap. Reconnecting would read the same event again, so the
 * window fails; the next reconcile lists past it.
 */
export class WatchLineTooLargeError extends NotRetriedError {
  override readonly name = 'WatchLineTooLargeError'
  override readonly reason = 'watch-line-too-large'
}

/** A list answer whose own metadata is unusable (no resourceVersion, a non-string continue): a protocol bug. */
export class ListParseError extends NotRetriedError {
  override readonly name = 'ListParseError'
  override readonly reason = 'ListParseError'
}

/** Discovery says the group/version does not serve this resource: an answer, like a 404. */
export class ResourceNotFoundError extends NotRetriedError {
  override readonly name = 'ResourceNotFoundError'
  override readonly reason = 'http-404'

  constructor(message: string, context: ErrorContext = {}) {
    super(message, { context })
  }
}

/** Walks a cause chain (retry wrappers, SyncError) to the first error of a class. */
function inCauses<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = error, depth = 0; e !== undefined && depth < 8; depth++) {
    if (e instanceof type) return e
    e = e instanceof Error ? e.cause : undefined
  }
  return undefined
}

function kubeApiErrorOf(error: unknown): KubeApiError | undefined {
  return inCauses(error, KubeApiError)
}

/** The byte cap a failure hit, anywhere in its cause chain. */
export function responseTooLargeOf(error: unknown): KubeResponseTooLargeError | undefined {
  return inCauses(error, KubeResponseTooLargeError)
}

/**
 * The continue token a 410 on a continue request carries in
 * `metadata.continue`: following it gives the rest of the list at a newer
 * resourceVersion, so the pass is no longer a consistent snapshot
 * (apiserver: storage/etcd3 "continue parameter is too old").
 */
export function inconsistentContinueOf(error: unknown): string | undefined {
  const api = kubeApiErrorOf(error)
  if (api?.code !== 410 || typeof api.body !== 'object') return undefined
  const token = api.body.metadata?.continue
  return token ? token : undefined
}
