import { SyncError, type ErrorContext } from '../errors.js'

/*
 * Errors of the Kubernetes edge. They carry what lib/errors.ts classify()
 * reads: a numeric `code` (HTTP status: 410 = expired, 429/5xx = transient,
 * 401/403/404 = fatal), `headers` (Retry-After), or a `name`/`code` it knows
 * (TimeoutError, ERR_STREAM_PREMATURE_CLOSE). Messages never carry a
 * request's credentials or an object's content.
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
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError'
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
  ) {
    const reason = typeof body === 'object' ? body.reason : undefined
    const detail = typeof body === 'object' ? body.message : body.slice(0, 200)
    super(`${operation}: HTTP ${code}${reason ? ` ${reason}` : ''}${detail ? `: ${detail}` : ''}`)
    this.code = code
    this.body = body
    this.headers = headers
    this.reason = reason
  }
}

/** K8S_REQUEST_TIMEOUT_MS passed without an answer: transient (classify: request-timeout). */
export class KubeTimeoutError extends Error {
  override readonly name = 'TimeoutError'
  constructor(operation: string, timeoutMs: number) {
    super(`${operation}: no answer within ${timeoutMs}ms`)
  }
}

/** A watch stream that broke off in the middle of an event: a cut, transient. */
export class WatchTruncatedError extends Error {
  override readonly name: string = 'WatchTruncatedError'
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE'
}

/**
 * A watch line that is not JSON: bytes lost in the middle of the stream (a
 * proxy that cut a stream and kept writing). Like a cut, transient: the
 * watcher logs it and resumes from the last good resourceVersion, so the
 * damaged event is sent again, never skipped. Persistent damage still ends
 * the window once the reconnection attempts are spent.
 */
export class WatchGarbledError extends WatchTruncatedError {
  override readonly name = 'WatchGarbledError'
}

/** Well-formed JSON that is not a watch event (unknown type, no resourceVersion): a protocol bug, fatal. */
export class WatchParseError extends Error {
  override readonly name = 'WatchParseError'
}

/** Discovery says the group/version does not serve this resource: fatal, like a 404. */
export class ResourceNotFoundError extends SyncError {
  override readonly name = 'ResourceNotFoundError'
  readonly code = 404
  constructor(message: string, context: ErrorContext = {}) {
    super(message, { context })
  }
}

/** Walks a cause chain (retry wrappers, SyncError) to the first KubeApiError. */
export function kubeApiErrorOf(error: unknown): KubeApiError | undefined {
  for (let e = error, depth = 0; e !== undefined && depth < 8; depth++) {
    if (e instanceof KubeApiError) return e
    e = e instanceof Error ? e.cause : undefined
  }
  return undefined
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

/** A watch the server closed before the timeout we asked for: treated as a cut (transient). */
export class WatchEndedEarlyError extends Error {
  override readonly name = 'WatchEndedEarlyError'
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE'
}

/** A watch that sent nothing, not even its end, well past its timeoutSeconds: a dead connection. */
export class WatchStalledError extends Error {
  override readonly name = 'WatchStalledError'
  readonly code = 'ETIMEDOUT'
}
