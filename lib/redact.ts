import { createHash } from 'node:crypto'

/**
 * Scrubs credentials out of text that may reach a log line, an error
 * message, a report or a stored error: passwords in connection strings,
 * bearer tokens, EKS tokens, values registered at run time (secrets fetched
 * from Secrets Manager, kubeconfig tokens) and the values of the Secrets the
 * function saw (docs/security.md#what-is-redacted-where).
 */
const patterns: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:password@host -> scheme://user:***@host. From a word's start only: trying
  // every position of a long word made the scan quadratic (2.4 ms for 800 letters).
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*):[^@\s/]+@/gi, '$1:***@'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1***'],
  [/k8s-aws-v1\.[A-Za-z0-9_-]+/g, 'k8s-aws-v1.***'],
  [
    /("?(?:password|token|secret|client-key-data|client-certificate-data)"?\s*[:=]\s*)"?[^\s",}]+"?/gi,
    '$1"***"',
  ],
]

/** Short values would blank out ordinary words; they are not credentials anyway. */
const MIN_SECRET_LENGTH = 8

const knownSecrets = new Set<string>()

/** Registers a value (a fetched secret, a token) that must never be printed. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) knownSecrets.add(value)
}

/*
 * Secret values seen in listed or watched Secrets (SECRET_MODE redacted, hmac,
 * plain) can be many thousands, so they are not searched one by one. Each is
 * kept as a length and a digest, never as itself, under one short window of
 * its text (its anchor); a text is scanned once, one map lookup per
 * character, and a value is checked only where its anchor appears. Values
 * often share a beginning (every service-account token starts with the same
 * JWT header, every PEM with the same line), so each takes the window, of a
 * sample along it, whose bucket is emptiest: buckets stay small.
 */
const ANCHOR_LENGTH = MIN_SECRET_LENGTH
const ANCHOR_SAMPLES = 32

interface SeenValue {
  /** Where its anchor starts within the value. */
  readonly offset: number
  readonly length: number
  readonly digest: string
}

const anchors = new Map<string, SeenValue[]>()
const seenDigests = new Set<string>()

function digestOf(value: string): string {
  return createHash('sha256').update(value).digest('base64')
}

/** Registers a Secret value the function received; it is redacted from every text from now on. */
export function registerSecretValue(value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return
  const digest = digestOf(value)
  if (seenDigests.has(digest)) return
  seenDigests.add(digest)
  const last = value.length - ANCHOR_LENGTH
  const step = Math.max(1, Math.floor(last / (ANCHOR_SAMPLES - 1)))
  let best = { offset: 0, size: Infinity }
  for (let offset = 0; offset <= last && best.size > 0; offset += step) {
    const size = anchors.get(value.slice(offset, offset + ANCHOR_LENGTH))?.length ?? 0
    if (size < best.size) best = { offset, size }
  }
  const anchor = value.slice(best.offset, best.offset + ANCHOR_LENGTH)
  const entry = { offset: best.offset, length: value.length, digest }
  const bucket = anchors.get(anchor)
  if (bucket) bucket.push(entry)
  else anchors.set(anchor, [entry])
}

/** Where seen values occur in `text`, as [start, end) ranges in order of start. */
function seenValueRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  for (let at = 0; at + ANCHOR_LENGTH <= text.length; at++) {
    const bucket = anchors.get(text.slice(at, at + ANCHOR_LENGTH))
    for (const { offset, length, digest } of bucket ?? []) {
      const start = at - offset
      if (start < 0 || start + length > text.length) continue
      if (digestOf(text.slice(start, start + length)) === digest)
        ranges.push([start, start + length])
    }
  }
  return ranges.sort((a, b) => a[0] - b[0])
}

function redactSeenValues(text: string): string {
  if (anchors.size === 0) return text
  const ranges = seenValueRanges(text)
  if (ranges.length === 0) return text
  let out = ''
  let from = 0
  for (const [start, end] of ranges) {
    if (end <= from) continue
    if (start >= from) out += `${text.slice(from, start)}***`
    from = end
  }
  return out + text.slice(from)
}

export function redactText(text: string): string {
  let out = text
  for (const [re, replacement] of patterns) out = out.replace(re, replacement)
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join('***')
  return redactSeenValues(out)
}

/** A connection string safe to show: the password replaced, everything else kept. */
export function redactUri(uri: string | undefined): string | undefined {
  return uri === undefined ? undefined : redactText(uri)
}

/**
 * Every string in a JSON-like value passed through redactText: what a
 * function returns (its report) leaves only this way.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item)) as T
  if (value === null || typeof value !== 'object') return value
  // Dates, Maps, class instances: not what a report is made of; left as they are.
  const prototype: unknown = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, redactDeep(item)]),
  ) as T
}

/**
 * The error itself, its message, stack and causes redacted in place: a thrown
 * error reaches the Lambda runtime's log line and the failure queue's message
 * as `errorMessage` and `stackTrace`, past our logger.
 */
export function redactError<T>(error: T, depth = 0): T {
  if (!(error instanceof Error) || depth > 5) return error
  try {
    error.message = redactText(error.message)
    if (error.stack !== undefined) error.stack = redactText(error.stack)
    const withContext = error as { context?: unknown }
    if (withContext.context !== null && typeof withContext.context === 'object') {
      withContext.context = Object.freeze(redactDeep(withContext.context))
    }
  } catch {
    // A frozen error: its text stays as it is, the logger still redacts it.
  }
  redactError(error.cause, depth + 1)
  if (error instanceof AggregateError) for (const e of error.errors) redactError(e, depth + 1)
  return error
}
