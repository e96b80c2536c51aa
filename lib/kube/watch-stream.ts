import { StringDecoder } from 'node:string_decoder'
import type { ErrorContext } from '../errors.js'
import {
  KubeApiError,
  WatchGarbledError,
  WatchParseError,
  WatchTruncatedError,
  type KubeStatus,
} from './errors.js'
import { apiErrorOf, requestDeadline, type HttpTransport } from './http.js'
import type { WatchStreamFn, WatchStreamRequest } from './operations.js'
import { collectionPath } from './paths.js'
import type { KubeObject, WatchEvent, WatchEventType } from './types.js'

/*
 * The raw watch protocol, without client-node's Watch class: that class
 * swallows lines that are not JSON and cannot say whether the stream ended
 * normally. A watch answer is newline-delimited JSON, one
 * `{"type": ..., "object": ...}` per line (apimachinery watch/streamwatcher).
 */

const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>([
  'ADDED',
  'MODIFIED',
  'DELETED',
  'BOOKMARK',
])

/**
 * Opens a watch. K8S_REQUEST_TIMEOUT_MS bounds the wait for the answer's
 * headers only: the body stays open up to `timeoutSeconds` (the server ends
 * it) or until `request.signal` aborts.
 */
export function makeWatchStream(
  transport: HttpTransport,
  options: { readonly connectTimeoutMs: number },
): WatchStreamFn {
  return async (request: WatchStreamRequest) => {
    const operation = watchOperation(request)
    const context: ErrorContext = {
      resource: request.resolved.ref.id,
      namespace: request.namespace,
      resourceVersion: request.resourceVersion,
    }
    const deadline = requestDeadline(operation, options.connectTimeoutMs, request.signal, context)
    try {
      const response = await transport({
        path: collectionPath(request.resolved, request.namespace),
        query: {
          watch: 'true',
          resourceVersion: request.resourceVersion,
          allowWatchBookmarks: String(request.allowWatchBookmarks),
          timeoutSeconds: String(request.timeoutSeconds),
        },
        // Cleared once the headers are in, the timeout leaves the body to the caller's signal.
        signal: deadline.signal,
      })
      if (response.status !== 200) throw await apiErrorOf(operation, response, context)
      return parseWatchEvents(response.body, operation, context)
    } catch (error) {
      throw deadline.explain(error)
    } finally {
      deadline.clear()
    }
  }
}

function watchOperation(request: WatchStreamRequest): string {
  const scope = request.namespace ? ` in ${request.namespace}` : ''
  return `watch ${request.resolved.ref.id}${scope} from ${request.resourceVersion}`
}

/**
 * Events of a watch body, in order. Throws KubeApiError on an ERROR event
 * (its Status code: 410 when the resourceVersion is too old),
 * WatchTruncatedError when the body ends inside an event, WatchGarbledError on
 * a line that is not JSON, WatchParseError on JSON that is not an event.
 * Nothing is skipped: a skipped line would be a lost change.
 */
export async function* parseWatchEvents(
  body: AsyncIterable<Buffer | string>,
  operation: string,
  context: ErrorContext = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const decoder = new StringDecoder('utf8')
  // An error's context names the last good version: where the watcher resumes.
  const at = { operation, ...context }
  let pending = ''
  for await (const chunk of body) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let newline: number
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim()
      pending = pending.slice(newline + 1)
      if (line === '') continue
      const event = parseEvent(line, operation, at)
      at.resourceVersion = event.object.metadata.resourceVersion
      yield event
    }
  }
  pending += decoder.end()
  // The server ends every event with a newline; a remainder is a cut mid-event.
  if (pending.trim() !== '') {
    throw new WatchTruncatedError(
      `${operation}: stream ended inside an event (${pending.length} chars)`,
      { context: at },
    )
  }
}

function parseEvent(line: string, operation: string, context: ErrorContext): WatchEvent {
  const options = { context }
  let parsed: { type?: unknown; object?: unknown }
  try {
    parsed = JSON.parse(line) as { type?: unknown; object?: unknown }
  } catch {
    // Never quote the line: it may be a Secret.
    throw new WatchGarbledError(`${operation}: a line of ${line.length} chars is not JSON`, options)
  }
  const { type, object } = parsed ?? {}
  if (type === 'ERROR') {
    const status = (object ?? {}) as KubeStatus
    const code = typeof status.code === 'number' ? status.code : 500
    throw new KubeApiError(operation, code, status, {}, context)
  }
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new WatchParseError(`${operation}: unknown event type ${JSON.stringify(type)}`, options)
  }
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata
    ?.resourceVersion
  if (typeof rv !== 'string' || rv === '') {
    throw new WatchParseError(
      `${operation}: ${type} event without metadata.resourceVersion`,
      options,
    )
  }
  return { type: type as WatchEventType, object: object as KubeObject }
}
