import { StringDecoder } from 'node:string_decoder'

import { DeadlineError, type ErrorContext } from '../errors.js'
import {
  KubeApiError,
  KubeRequestTimeoutError,
  KubeResponseTooLargeError,
  type KubeStatus,
} from './errors.js'

/*
 * The HTTP edge every Kubernetes call goes through. client.ts supplies the
 * transport (the library's TLS and auth options on node:https); everything
 * above depends on this small function type, so tests can fake the server.
 */

export interface HttpRequest {
  /** Path below the server URL, e.g. `/api/v1/namespaces/a/configmaps`. */
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>>
  /** Aborting closes the request or the body being read. */
  readonly signal: AbortSignal
  /** Ask for gzip (lists and discovery; a watch is never compressed by the server). */
  readonly compressed?: boolean
  /** The Accept header; default `application/json` (partial-metadata.ts asks for metadata only). */
  readonly accept?: string
}

export interface HttpResponse {
  readonly status: number
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  /** The (already decompressed) body, as a byte stream. */
  readonly body: AsyncIterable<Buffer | string>
}

export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>

/** Error bodies are small Status objects; cap what we keep of anything else. */
const MAX_ERROR_BODY_CHARS = 64 * 1024

/**
 * The body as text, decoded chunk by chunk as it arrives. A list page is a
 * megabyte or more: joining the chunks into one native buffer first and then
 * copying that into a string made two page-sized copies, one outside V8's
 * heap. A character split between two chunks is kept whole.
 */
export async function readText(
  body: AsyncIterable<Buffer | string>,
  maxChars = Infinity,
): Promise<string> {
  const decoder = new StringDecoder('utf8')
  const parts: string[] = []
  let size = 0
  for await (const chunk of body) {
    if (size >= maxChars) continue
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
    parts.push(text)
    size += text.length
  }
  parts.push(decoder.end())
  return parts.join('')
}

/**
 * The body as text, or undefined once more than `maxBytes` (decoded from gzip,
 * as held in memory) arrived: the read stops there and the stream is
 * destroyed (leaving the loop closes it, and the gunzip pipeline closes the
 * socket's response with it), so no more than the cap plus one chunk is
 * ever held (docs/design.md#invariant-6-bounded).
 */
export async function readTextWithin(
  body: AsyncIterable<Buffer | string>,
  maxBytes: number,
): Promise<string | undefined> {
  const decoder = new StringDecoder('utf8')
  const parts: string[] = []
  let bytes = 0
  for await (const chunk of body) {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    if (bytes > maxBytes) return undefined
    parts.push(typeof chunk === 'string' ? chunk : decoder.write(chunk))
  }
  parts.push(decoder.end())
  return parts.join('')
}

/** Turns a non-2xx answer into a KubeApiError keeping status, Status body and headers. */
export async function apiErrorOf(
  operation: string,
  response: HttpResponse,
  context: ErrorContext = {},
): Promise<KubeApiError> {
  const text = await readText(response.body, MAX_ERROR_BODY_CHARS)
  let body: KubeStatus | string = text
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object') body = parsed
  } catch {
    // Not JSON (a proxy's HTML page): keep the text, the status says enough.
  }
  return new KubeApiError(operation, response.status, body, response.headers, context)
}

export interface Deadline {
  /** Aborts on the caller's signal or when the timeout passes. */
  readonly signal: AbortSignal
  /** Stop the timeout (the answer arrived); the caller's signal still applies. */
  readonly clear: () => void
  /** Maps an error thrown under this deadline to DeadlineError / KubeRequestTimeoutError when one fired. */
  readonly explain: (error: unknown) => unknown
}

/**
 * A per-request timeout joined with the caller's signal. setTimeout (not
 * AbortSignal.timeout) so fake timers drive it in tests.
 */
export function requestDeadline(
  operation: string,
  timeoutMs: number,
  signal?: AbortSignal,
  context: ErrorContext = {},
): Deadline {
  const timeout = new AbortController()
  const timer = setTimeout(() => timeout.abort(), timeoutMs)
  const joined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal
  return {
    signal: joined,
    clear: () => clearTimeout(timer),
    explain: (error) => {
      if (signal?.aborted) {
        return new DeadlineError(`${operation}: aborted (deadline)`, {
          context: { operation, ...context },
          cause: signal.reason,
        })
      }
      if (timeout.signal.aborted) {
        return new KubeRequestTimeoutError(operation, timeoutMs, { context, cause: error })
      }
      return error
    },
  }
}

/**
 * GET a JSON document within `timeoutMs` (headers and body). Non-2xx answers
 * throw KubeApiError; the caller's abort throws DeadlineError; the timeout
 * throws KubeRequestTimeoutError (transient); a body over `maxBytes`
 * KubeResponseTooLargeError. `context` goes into each.
 */
export async function getJson<T>(
  transport: HttpTransport,
  operation: string,
  request: Omit<HttpRequest, 'signal'>,
  options: {
    readonly timeoutMs: number
    readonly signal?: AbortSignal
    readonly context?: ErrorContext
    /** Most bytes of body read (decompressed); unset = no cap. */
    readonly maxBytes?: number
  },
): Promise<T> {
  const { context } = options
  const deadline = requestDeadline(operation, options.timeoutMs, options.signal, context)
  try {
    const response = await transport({ ...request, signal: deadline.signal })
    if (response.status < 200 || response.status > 299) {
      throw await apiErrorOf(operation, response, context)
    }
    const maxBytes = options.maxBytes ?? Infinity
    const text = await readTextWithin(response.body, maxBytes)
    if (text === undefined) throw new KubeResponseTooLargeError(operation, maxBytes, context)
    return parseJson<T>(operation, text)
  } catch (error) {
    throw deadline.explain(error)
  } finally {
    deadline.clear()
  }
}

/** JSON.parse whose error names the size, never the text (it may be a Secret). */
function parseJson<T>(operation: string, text: string): T {
  try {
    return JSON.parse(text) as T
  } catch {
    throw new SyntaxError(`${operation}: the answer is not valid JSON (${text.length} chars)`)
  }
}
