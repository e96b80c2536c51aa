import { describe, expect, it } from 'vitest'
import { classify } from '../../../../lib/classify.js'
import { createHealthTracker, ReadyState } from '../../../../lib/store/connection/health.js'

const topology = (hasDataBearingServers: boolean) =>
  ({ newDescription: { hasDataBearingServers } }) as never

describe('MongoDB health tracking', () => {
  it('records a loss when a connected server stops answering heartbeats', () => {
    const health = createHealthTracker()
    health.readyState = ReadyState.connected
    health.onHeartbeatFailed({ connectionId: 'h:1', failure: new Error('connect ECONNREFUSED') })
    expect(health.readyState).toBe(ReadyState.disconnected)
    expect(health.loss?.reason).toMatch(/heartbeat to h:1 failed/)
  })

  it('keeps the loss pending after the driver recovers on its own', () => {
    const health = createHealthTracker()
    health.readyState = ReadyState.connected
    health.onTopologyChanged(topology(false))
    health.onHeartbeatSucceeded()
    expect(health.readyState).toBe(ReadyState.connected)
    expect(health.loss?.reason).toBe('no reachable server')
  })

  it('ignores failures while still connecting (the connect retry owns them)', () => {
    const health = createHealthTracker()
    health.readyState = ReadyState.connecting
    health.onPoolCleared({ address: 'h:1' })
    expect(health.loss).toBeUndefined()
    expect(health.readyState).toBe(ReadyState.connecting)
  })
})

describe('MongoDB error classification the connection relies on', () => {
  it('treats authentication failure (code 18) as fatal', () => {
    expect(
      classify({ name: 'MongoServerError', code: 18, message: 'Authentication failed.' }).kind,
    ).toBe('fatal')
  })

  it('treats an auth failure wrapped in a server selection error as fatal', () => {
    const cause = { name: 'MongoServerError', code: 18, message: 'Authentication failed.' }
    expect(classify({ name: 'MongoServerSelectionError', message: 'x', cause }).kind).toBe('fatal')
  })

  it('treats a refused connection and a server selection timeout as transient', () => {
    expect(classify({ name: 'MongoNetworkError', message: 'connect ECONNREFUSED' }).kind).toBe(
      'transient',
    )
    expect(classify({ name: 'MongoServerSelectionError', message: 'timed out' }).kind).toBe(
      'transient',
    )
  })
})
