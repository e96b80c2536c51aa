import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DeadlineError,
  NotRetriedError,
  RetryExhaustedError,
  SyncError,
  TransientError,
} from '../../lib/errors.js'
import { classify } from '../../lib/classify.js'

const withCode = (message: string, code: unknown, extra: object = {}) =>
  Object.assign(new Error(message), { code }, extra)

const mongo = (name: string, extra: object = {}) => Object.assign(new Error(name), { name }, extra)

const aws = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })

describe('classify', () => {
  it.each([
    ['socket hang up', new Error('socket hang up')],
    ['ECONNRESET', withCode('read ECONNRESET', 'ECONNRESET')],
    ['ETIMEDOUT', withCode('connect ETIMEDOUT', 'ETIMEDOUT')],
    ['EPIPE', withCode('write EPIPE', 'EPIPE')],
    ['ECONNREFUSED', withCode('connect ECONNREFUSED', 'ECONNREFUSED')],
    [
      'a reset wrapped as the cause of a fetch error',
      new Error('request failed', { cause: withCode('x', 'ECONNRESET') }),
    ],
    ['HTTP 429', withCode('Too Many Requests', 429)],
    ['HTTP 502', withCode('Bad Gateway', 502)],
    ['HTTP 503', withCode('Service Unavailable', 503)],
    ['HTTP 504', withCode('Gateway Timeout', 504)],
    ['MongoNetworkError', mongo('MongoNetworkError')],
    ['MongoNetworkTimeoutError', mongo('MongoNetworkTimeoutError')],
    ['MongoServerSelectionError', mongo('MongoServerSelectionError')],
    ['MongoPoolClearedError', mongo('MongoPoolClearedError')],
    [
      'a RetryableWriteError label',
      mongo('MongoServerError', { code: 91, errorLabels: ['RetryableWriteError'] }),
    ],
    ['a primary step-down', mongo('MongoServerError', { code: 189 })],
    ['AWS throttling', aws('ThrottlingException', 400)],
    ['AWS 500', aws('InternalServiceError', 500)],
  ])('calls %s transient', (_label, error) => {
    expect(classify(error).kind).toBe('transient')
  })

  it.each([
    ['HTTP 401', withCode('Unauthorized', 401)],
    ['HTTP 403', withCode('Forbidden', 403)],
    ['HTTP 404', withCode('Not Found', 404)],
    ['HTTP 422', withCode('Invalid', 422)],
    ['Mongo auth failure (code 18)', mongo('MongoServerError', { code: 18 })],
    [
      'Mongo auth failure inside server selection',
      mongo('MongoServerSelectionError', { cause: mongo('MongoServerError', { code: 18 }) }),
    ],
    ['an unparseable connection string', mongo('MongoParseError')],
    ['a duplicate key', mongo('MongoBulkWriteError', { code: 11000 })],
    ['AWS access denied', aws('AccessDeniedException', 400)],
    ['AWS missing secret', aws('ResourceNotFoundException', 400)],
    ['invalid configuration', new ConfigError(['X=1 is invalid'])],
    ['an unknown bug', new TypeError('cannot read properties of undefined')],
    ['a thrown string', 'boom'],
  ])('calls %s fatal', (_label, error) => {
    expect(classify(error).kind).toBe('fatal')
  })

  it('calls a 410 expired, whether from a list or a watch Status', () => {
    expect(classify(withCode('Gone', 410))).toEqual({ kind: 'expired', reason: 'http-410' })
    expect(classify({ kind: 'Status', code: 410, reason: 'Expired' }).kind).toBe('expired')
  })

  it('reads Retry-After from plain and fetch-style headers', () => {
    expect(
      classify(withCode('slow down', 429, { headers: { 'retry-after': '3' } })).retryAfterMs,
    ).toBe(3000)
    const headers = new Headers({ 'Retry-After': '2' })
    expect(classify(withCode('slow down', 503, { headers })).retryAfterMs).toBe(2000)
  })

  it('classifies our wrappers by their cause', () => {
    const wrapped = new RetryExhaustedError('List pods failed', {
      cause: withCode('reset', 'ECONNRESET'),
    })
    expect(classify(wrapped).kind).toBe('transient')
    expect(classify(new SyncError('x', { cause: withCode('Gone', 410) })).kind).toBe('expired')
  })

  it('does not mistake a Mongo server code for an HTTP status', () => {
    expect(classify(mongo('MongoServerError', { code: 503 })).kind).toBe('fatal')
  })
})

describe('classify, for our own errors', () => {
  class ProbeCutError extends TransientError {
    override readonly name = 'ProbeCutError'
    override readonly reason = 'probe-cut'
  }
  class ProbeRefusedError extends NotRetriedError {
    override readonly name = 'ProbeRefusedError'
    override readonly reason = 'probe-refused'
  }

  it('calls a TransientError transient with its reason, whatever it wraps', () => {
    const error = new ProbeCutError('cut', { cause: new TypeError('a bug underneath') })
    expect(classify(error)).toEqual({ kind: 'transient', reason: 'probe-cut' })
  })

  it('calls a NotRetriedError fatal with its reason, whatever it wraps', () => {
    const error = new ProbeRefusedError('refused', { cause: withCode('reset', 'ECONNRESET') })
    expect(classify(error)).toEqual({ kind: 'fatal', reason: 'probe-refused' })
  })

  it('calls the deadline fatal, as before, even when its cause was a reset', () => {
    const error = new DeadlineError('deadline reached', { cause: withCode('reset', 'ECONNRESET') })
    expect(error).toBeInstanceOf(NotRetriedError)
    expect(classify(error)).toEqual({ kind: 'fatal', reason: 'deadline' })
  })

  it('does not take a lookalike name for one of our classes', () => {
    const lookalike = Object.assign(new Error('open'), { name: 'CircuitOpenError' })
    expect(classify(lookalike)).toEqual({ kind: 'fatal', reason: 'CircuitOpenError' })
    const timeout = Object.assign(new Error('slow'), { name: 'KubeRequestTimeoutError' })
    expect(classify(timeout).kind).toBe('fatal')
  })
})
