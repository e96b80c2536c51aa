import type { ServerResponse } from 'node:http'

export interface RequestInfo {
  method: string
  path: string
  query: URLSearchParams
  watch: boolean
  continueToken: string | undefined
}

export type FaultAction =
  /** Answer with this status (429/502/503/504...), a Kubernetes Status body, optional Retry-After. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  /** 410 Expired as the API server sends for a stale continue token. */
  | { kind: 'expired'; inconsistentContinue?: string | false }
  /** Forward the watch, then destroy the socket after this many complete events. */
  | { kind: 'cutWatch'; afterEvents: number }
  /** Send 200 and headers, then nothing, keeping the socket open until the client leaves. */
  | { kind: 'stallWatch' }
  /** Destroy the client socket without any answer. */
  | { kind: 'reset' }
  /** Forward after a pause. */
  | { kind: 'delay'; ms: number }
  /**
   * Forward, rewriting what the server sent: a list's whole body, or each line
   * (event) of a watch. A server or proxy we must not trust, for the edge checks.
   */
  | { kind: 'rewrite'; rewrite: (text: string) => string }

export interface FaultRuleSpec {
  match: (req: RequestInfo) => boolean
  action: FaultAction
  /** Matching requests to let through untouched before the fault applies; default 0. */
  skip?: number
  /** How many matching requests get the fault; default 1. Infinity for all. */
  times?: number
}

export interface FaultRule extends FaultRuleSpec {
  /** Requests that matched the predicate (including skipped and exhausted ones). */
  matched: number
  /** Requests that got the fault. */
  applied: number
}

/** Decides whether this request gets the rule's fault, and counts it either way. */
export function takeFault(rule: FaultRule, req: RequestInfo): boolean {
  if (!rule.match(req)) return false
  rule.matched++
  const skip = rule.skip ?? 0
  if (rule.matched <= skip || rule.applied >= (rule.times ?? 1)) return false
  rule.applied++
  return true
}

// Predicates, composable with `and`.
export const pathMatches = (pattern: RegExp | string) => (req: RequestInfo) =>
  typeof pattern === 'string' ? req.path === pattern : pattern.test(req.path)
export const isWatch = (req: RequestInfo) => req.watch
export const isList = (req: RequestInfo) => req.method === 'GET' && !req.watch
export const isContinuePage = (req: RequestInfo) => req.continueToken !== undefined
export const and =
  (...preds: ((req: RequestInfo) => boolean)[]) =>
  (req: RequestInfo) =>
    preds.every((p) => p(req))

const reasons: Record<number, string> = {
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

export const expiredContinueMessage =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'

// The real server answers an expired token with a token for the same start key at rv -1
// (k8s.io/apiserver etcd3 handleCompactedErrorForPaging); derive it the same way.
export function inconsistentContinueFor(token: string | undefined): string | undefined {
  if (token === undefined) return undefined
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as object
    return Buffer.from(JSON.stringify({ ...decoded, rv: -1 })).toString('base64url')
  } catch {
    return undefined
  }
}

export function sendStatus(
  res: ServerResponse,
  code: number,
  message: string,
  extra: { continueToken?: string; retryAfterSeconds?: number } = {},
): void {
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: extra.continueToken ? { continue: extra.continueToken } : {},
    status: 'Failure',
    message,
    reason: reasons[code] ?? 'Unknown',
    ...(extra.retryAfterSeconds !== undefined
      ? { details: { retryAfterSeconds: extra.retryAfterSeconds } }
      : {}),
    code,
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (extra.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(extra.retryAfterSeconds)
  res.writeHead(code, headers)
  res.end(JSON.stringify(body))
}
