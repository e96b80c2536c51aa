import { describe, expect, it } from 'vitest'
import {
  NotRetriedError,
  RetryExhaustedError,
  SyncError,
  TransientError,
} from '../../../lib/errors.js'
import { classify } from '../../../lib/classify.js'
import {
  KubeApiError,
  KubeRequestTimeoutError,
  KubeStreamClosedError,
  ResourceNotFoundError,
  WatchEndedEarlyError,
  WatchGarbledError,
  WatchParseError,
  WatchStalledError,
  WatchTruncatedError,
} from '../../../lib/kube/errors.js'

const context = { resource: 'v1/configmaps', namespace: 'team-a', resourceVersion: '42' }
const abort = () => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })

describe('Kubernetes errors', () => {
  // The reasons are the ones classify() gave before these errors were classes.
  it.each([
    ['a request timeout', new KubeRequestTimeoutError('list v1/pods', 30_000), 'request-timeout'],
    [
      'a stream cut inside an event',
      new WatchTruncatedError('cut', { context }),
      'ERR_STREAM_PREMATURE_CLOSE',
    ],
    [
      'a line that is not JSON',
      new WatchGarbledError('garbled', { context }),
      'ERR_STREAM_PREMATURE_CLOSE',
    ],
    [
      'a watch the server ended early',
      new WatchEndedEarlyError('early', { context }),
      'ERR_STREAM_PREMATURE_CLOSE',
    ],
    ['a silent watch', new WatchStalledError('silent', { context, cause: abort() }), 'ETIMEDOUT'],
  ])('calls %s transient, by its class', (_label, error, reason) => {
    expect(error).toBeInstanceOf(TransientError)
    expect(classify(error)).toEqual({ kind: 'transient', reason })
  })

  it.each([
    [
      'JSON that is not a watch event',
      new WatchParseError('bad event', { context }),
      'WatchParseError',
    ],
    [
      'a resource the server does not serve',
      new ResourceNotFoundError('not served', context),
      'http-404',
    ],
  ])('calls %s fatal, by its class', (_label, error, reason) => {
    expect(error).toBeInstanceOf(NotRetriedError)
    expect(classify(error)).toEqual({ kind: 'fatal', reason })
  })

  it('groups the cuts of a watch stream under one class', () => {
    for (const error of [
      new WatchTruncatedError('cut'),
      new WatchGarbledError('garbled'),
      new WatchEndedEarlyError('early'),
    ]) {
      expect(error).toBeInstanceOf(KubeStreamClosedError)
    }
    expect(new WatchStalledError('silent')).not.toBeInstanceOf(KubeStreamClosedError)
  })

  it('carries no borrowed name or code: the class says what happened', () => {
    const timeout = new KubeRequestTimeoutError('list v1/pods', 30_000)
    expect(timeout.name).toBe('KubeRequestTimeoutError')
    expect(timeout).not.toHaveProperty('code')
    expect(new WatchStalledError('silent')).not.toHaveProperty('code')
    expect(new WatchEndedEarlyError('early')).not.toHaveProperty('code')
    expect(new ResourceNotFoundError('not served')).not.toHaveProperty('code')
  })

  it('keeps context and cause, and names the operation', () => {
    const cause = abort()
    const timeout = new KubeRequestTimeoutError('list v1/configmaps in team-a', 30_000, {
      context: { resource: 'v1/configmaps', namespace: 'team-a' },
      cause,
    })

    expect(timeout).toBeInstanceOf(SyncError)
    expect(timeout.message).toBe('list v1/configmaps in team-a: no answer within 30000ms')
    expect(timeout.context).toEqual({
      operation: 'list v1/configmaps in team-a',
      resource: 'v1/configmaps',
      namespace: 'team-a',
    })
    expect(timeout.cause).toBe(cause)
    expect(timeout.timeoutMs).toBe(30_000)
  })

  it('classifies an answer of the API server by its HTTP status, as before', () => {
    expect(classify(new KubeApiError('watch', 410, { code: 410, reason: 'Expired' }))).toEqual({
      kind: 'expired',
      reason: 'http-410',
    })
    expect(classify(new KubeApiError('list', 503, 'unavailable')).kind).toBe('transient')
    expect(classify(new KubeApiError('list', 429, 'slow down', { 'retry-after': '2' }))).toEqual({
      kind: 'transient',
      reason: 'http-429',
      retryAfterMs: 2000,
    })
    expect(classify(new KubeApiError('list', 403, 'forbidden'))).toEqual({
      kind: 'fatal',
      reason: 'http-403',
    })
  })

  it('keeps the operation and context of an API answer', () => {
    const error = new KubeApiError('list v1/secrets', 403, { reason: 'Forbidden' }, {}, context)

    expect(error).toBeInstanceOf(SyncError)
    expect(error.context).toEqual({ operation: 'list v1/secrets', ...context })
    expect(error.message).toBe('list v1/secrets: HTTP 403 Forbidden')
  })

  it('is classified by the class of the cause when a retry wrapper gave up on it', () => {
    const stalled = new WatchStalledError('silent', { cause: abort() })
    const wrapped = new RetryExhaustedError('watch gave up', { cause: stalled })

    expect(classify(wrapped)).toEqual({ kind: 'transient', reason: 'ETIMEDOUT' })
  })
})
