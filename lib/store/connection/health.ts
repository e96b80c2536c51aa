import type {
  ConnectionPoolClearedEvent,
  ServerHeartbeatFailedEvent,
  TopologyDescriptionChangedEvent,
} from 'mongodb'
import { logger } from '../../log.js'

/** As mongoose numbers them, which getMongoHealth() mirrors (docs/resilience.md#the-fault-tolerance-contract). */
export const ReadyState = {
  disconnected: 0,
  connected: 1,
  connecting: 2,
  disconnecting: 3,
} as const
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState]

export interface HealthTracker {
  readyState: ReadyStateValue
  /**
   * Set when a connection that was up is lost, and kept until connectDB has
   * dealt with it (reconnected, or failed clearly): the driver may recover on
   * its own before anyone looks, and the flag-off contract is that the loss
   * still surfaces.
   */
  loss: { reason: string; at: Date } | undefined
  onHeartbeatSucceeded(): void
  onHeartbeatFailed(event: Pick<ServerHeartbeatFailedEvent, 'failure' | 'connectionId'>): void
  onPoolCleared(event: Pick<ConnectionPoolClearedEvent, 'address'>): void
  onTopologyChanged(event: Pick<TopologyDescriptionChangedEvent, 'newDescription'>): void
}

/**
 * Follows the driver's monitoring events. Only a connection that was up can be
 * lost: failures while connecting belong to the connect retry.
 */
export function createHealthTracker(now: () => Date = () => new Date()): HealthTracker {
  const tracker: HealthTracker = {
    readyState: ReadyState.disconnected,
    loss: undefined,
    onHeartbeatSucceeded() {
      if (tracker.readyState === ReadyState.disconnected && tracker.loss)
        tracker.readyState = ReadyState.connected
    },
    onHeartbeatFailed(event) {
      lost(`heartbeat to ${event.connectionId} failed: ${event.failure.message}`)
    },
    onPoolCleared(event) {
      lost(`connection pool for ${event.address} cleared`)
    },
    onTopologyChanged(event) {
      if (!event.newDescription.hasDataBearingServers) lost('no reachable server')
      else if (tracker.readyState === ReadyState.disconnected && tracker.loss)
        tracker.readyState = ReadyState.connected
    },
  }
  function lost(reason: string): void {
    if (tracker.readyState !== ReadyState.connected) return
    tracker.readyState = ReadyState.disconnected
    tracker.loss ??= { reason, at: now() }
    logger.warn(`MongoDB connection lost: ${reason}`, { event: 'mongo.disconnected', reason })
  }
  return tracker
}
