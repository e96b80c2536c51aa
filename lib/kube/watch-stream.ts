import type { ErrorContext } from '../errors.js'
import {
  KubeApiError,
  WatchGarbledError,
  WatchLineTooLargeError,
  WatchParseError,
  WatchTruncatedError,
  type KubeStatus,
} from './errors.js'
import { apiErrorOf, requestDeadline, type HttpTransport } from './http.js'
import type { WatchStreamFn, WatchStreamRequest } from './operations.js'
import { asResourceEvents, PARTIAL_METADATA_ACCEPT } from './partial-metadata.js'
import { collectionPath } from './paths.js'
import { checkServedObject, MAX_IDENTITY_CHARS } from './served-object.js'
import type { KubeObject, RefusedObject, WatchEvent, WatchEventType } from './types.js'

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
        ...(request.metadataOnly ? { accept: PARTIAL_METADATA_ACCEPT } : {}),
        // Cleared once the headers are in, the timeout leaves the body to the caller's signal.
        signal: deadline.signal,
      })
      if (response.status !== 200) throw await apiErrorOf(operation, response, context)
      const { maxLineBytes, onRefused } = request
      const events = parseWatchEvents(response.body, operation, context, {
        maxLineBytes,
        onRefused,
      })
      return request.metadataOnly
        ? asResourceEvents(events, request.resolved, operation, context)
        : events
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

/** What the parser is told besides the body: the caps and where refusals go. */
export interface WatchParseOptions {
  /** K8S_WATCH_LINE_MAX_BYTES; unset = no cap. */
  readonly maxLineBytes?: number
  /** Takes the events whose object the edge refused; without it they throw WatchParseError. */
  readonly onRefused?: (refused: RefusedObject) => void
}

/**
 * Events of a watch body, in order. Throws KubeApiError on an ERROR event
 * (its Status code: 410 when the resourceVersion is too old),
 * WatchTruncatedError when the body ends inside an event, WatchGarbledError on
 * a line that is not JSON, WatchParseError on JSON that is not an event,
 * WatchLineTooLargeError on a line over `maxLineBytes` (read no further than
 * the cap). An event whose object has no usable uid, name or resourceVersion
 * (served-object.ts) goes to `onRefused`, to be dead-lettered. Nothing is
 * skipped: a skipped line would be a lost change.
 *
 * Lines are split on the newline byte (never part of a multi-byte UTF-8
 * character), so each line is decoded once, whole, and its size is known in
 * bytes as it arrives.
 */
export async function* parseWatchEvents(
  body: AsyncIterable<Buffer | string>,
  operation: string,
  context: ErrorContext = {},
  options: WatchParseOptions = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const maxLineBytes = options.maxLineBytes ?? Infinity
  // An error's context names the last good version: where the watcher resumes.
  const at = { operation, ...context }
  const line = new LineBuffer()
  const tooLarge = () =>
    new WatchLineTooLargeError(
      `${operation}: an event over K8S_WATCH_LINE_MAX_BYTES (${maxLineBytes} bytes); the window stops here`,
      { context: at },
    )
  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
    let start = 0
    for (
      let newline = chunk.indexOf(NEWLINE);
      newline >= 0;
      newline = chunk.indexOf(NEWLINE, start)
    ) {
      if (line.bytes + newline - start > maxLineBytes) throw tooLarge()
      line.add(chunk.subarray(start, newline))
      start = newline + 1
      const text = line.take().trim()
      if (text === '') continue
      const event = parseEvent(text, operation, at)
      if ('refused' in event) {
        if (!options.onRefused) {
          const message = `${operation}: event refused: ${event.refused.reason}`
          throw new WatchParseError(message, { context: at })
        }
        options.onRefused(event.refused)
        continue
      }
      at.resourceVersion = event.object.metadata.resourceVersion
      yield event
    }
    if (line.bytes + chunk.length - start > maxLineBytes) throw tooLarge()
    if (start < chunk.length) line.add(chunk.subarray(start))
  }
  // The server ends every event with a newline; a remainder is a cut mid-event.
  const rest = line.take()
  if (rest.trim() !== '') {
    throw new WatchTruncatedError(
      `${operation}: stream ended inside an event (${rest.length} chars)`,
      { context: at },
    )
  }
}

const NEWLINE = 0x0a

/** The bytes of the line being read, kept as the chunks they came in. */
class LineBuffer {
  #parts: Buffer[] = []
  bytes = 0

  add(part: Buffer): void {
    if (part.length === 0) return
    this.#parts.push(part)
    this.bytes += part.length
  }

  /** The line so far as text, and an empty buffer. */
  take(): string {
    const text =
      this.#parts.length === 1
        ? this.#parts[0]!.toString('utf8')
        : Buffer.concat(this.#parts, this.bytes).toString('utf8')
    this.#parts = []
    this.bytes = 0
    return text
  }
}

function parseEvent(
  line: string,
  operation: string,
  context: ErrorContext,
): WatchEvent | { readonly refused: RefusedObject } {
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
  if (type === 'BOOKMARK') return bookmarkOf(object, operation, context)
  const checked = checkServedObject(object)
  if (checked.refused) {
    const refused =
      type === 'DELETED' ? { ...checked.refused, deleted: true as const } : checked.refused
    return { refused }
  }
  return { type: type as WatchEventType, object: checked.object }
}

/** A bookmark carries only a resourceVersion: where to resume, so it must be a usable one. */
function bookmarkOf(object: unknown, operation: string, context: ErrorContext): WatchEvent {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata
    ?.resourceVersion
  if (typeof rv !== 'string' || rv === '' || rv.length > MAX_IDENTITY_CHARS) {
    throw new WatchParseError(
      `${operation}: BOOKMARK event without a usable metadata.resourceVersion`,
      {
        context,
      },
    )
  }
  return { type: 'BOOKMARK', object: object as KubeObject }
}
