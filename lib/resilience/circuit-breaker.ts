import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel'
import type { Config } from '../config.js'
import { messageOf, NotRetriedError } from '../errors.js'
import { classify } from '../classify.js'
import { logger } from '../log.js'

export type Dependency = 'kubernetes' | 'mongodb'

const dependencyLabel: Readonly<Record<Dependency, string>> = {
  kubernetes: 'Kubernetes API server',
  mongodb: 'MongoDB',
}

export type BreakerSettings = Config['breaker']

/**
 * A call refused without being made: the dependency's breaker is open. Not
 * retried within a run: an open breaker already stands for many failed
 * attempts, and retrying would defeat it.
 */
export class CircuitOpenError extends NotRetriedError {
  override readonly name = 'CircuitOpenError'
  override readonly reason = 'circuit-open'
  readonly dependency: Dependency
  /** When the next probe call will be let through. */
  readonly retryAt: Date

  constructor(dependency: Dependency, entry: BreakerEntry) {
    const retryAt = new Date(
      (entry.openedAt?.getTime() ?? Date.now()) + entry.settings.halfOpenAfterMs,
    )
    const last =
      entry.lastFailure === undefined ? '' : `; last error: ${messageOf(entry.lastFailure)}`
    super(
      `${dependencyLabel[dependency]} circuit breaker is open after ${entry.settings.failureThreshold} consecutive failures; next probe at ${retryAt.toISOString()}${last}`,
      { context: { operation: `${dependency} call` } },
    )
    this.dependency = dependency
    this.retryAt = retryAt
  }
}

interface BreakerEntry {
  readonly policy: CircuitBreakerPolicy
  readonly settings: BreakerSettings
  opens: number
  /** Calls that failed and counted, in the container's life (tests and logs read it). */
  failures: number
  openedAt: Date | undefined
  lastFailure: unknown
}

/**
 * Only failures that say the dependency is unwell count. An answer (403, 404,
 * 410, a duplicate key) is health, and so is a 429: the server is up and
 * asks us to slow down, which Retry-After already does.
 */
export const countsAsFailure = (error: unknown): boolean => {
  if (error instanceof CircuitOpenError) return false
  const { kind, reason } = classify(error)
  return kind === 'transient' && reason !== 'http-429'
}

/** Runs one call through a dependency's breaker (or straight through, with breakers off). */
export type Guard = <T>(fn: () => Promise<T>) => Promise<T>

/** No breaker: what a test or a one-off tool passes where no container keeps one. */
export const unguarded: Guard = (fn) => fn()

export interface BreakerConfig {
  readonly features: Pick<Config['features'], 'circuitBreaker'>
  readonly breaker: BreakerSettings
}

/**
 * The breakers of one container, one per dependency. They outlive an
 * invocation (a warm container remembers an outage) and are shared by every
 * resource of an invocation, so an outage costs a few failures in all, not a
 * retry storm per chunk and per resource. lib/runtime/container.ts keeps them.
 */
export class Breakers {
  readonly #entries = new Map<Dependency, BreakerEntry>()
  readonly #config: BreakerConfig

  constructor(config: BreakerConfig) {
    this.#config = config
  }

  /**
   * Runs one call to `dependency` through its breaker. An open breaker throws
   * CircuitOpenError at once (classify() calls it fatal, so retries stop too).
   */
  async guard<T>(dependency: Dependency, fn: () => Promise<T>): Promise<T> {
    if (!this.#config.features.circuitBreaker) return fn()
    const entry = this.#entryFor(dependency)
    try {
      return await entry.policy.execute(() => fn())
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new CircuitOpenError(dependency, entry)
      throw error
    }
  }

  /** The guard of one dependency, for code that calls only that one. */
  guardOf(dependency: Dependency): Guard {
    return (fn) => this.guard(dependency, fn)
  }

  snapshots(): BreakerSnapshot[] {
    return [...this.#entries].map(([dependency, entry]) => ({
      dependency,
      state: stateName(entry.policy.state),
      opens: entry.opens,
      failures: entry.failures,
    }))
  }

  /** Opens since the last call, per dependency (an invocation's metric), and starts counting again. */
  takeOpens(): Record<Dependency, number> {
    const opens: Record<Dependency, number> = { kubernetes: 0, mongodb: 0 }
    for (const [dependency, entry] of this.#entries) {
      opens[dependency] = entry.opens
      entry.opens = 0
    }
    return opens
  }

  #entryFor(dependency: Dependency): BreakerEntry {
    let entry = this.#entries.get(dependency)
    if (!entry) {
      entry = newEntry(dependency, this.#config.breaker)
      this.#entries.set(dependency, entry)
    }
    return entry
  }
}

function newEntry(dependency: Dependency, settings: BreakerSettings): BreakerEntry {
  const policy = circuitBreaker(handleWhen(countsAsFailure), {
    halfOpenAfter: settings.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(settings.failureThreshold),
  })
  const entry: BreakerEntry = {
    policy,
    settings,
    opens: 0,
    failures: 0,
    openedAt: undefined,
    lastFailure: undefined,
  }
  const log = { dependency, failureThreshold: settings.failureThreshold }
  policy.onFailure(({ reason, handled }) => {
    if (!handled) return
    entry.failures++
    if ('error' in reason) entry.lastFailure = reason.error
  })
  policy.onBreak(() => {
    entry.opens++
    entry.openedAt = new Date()
    logger.error(`${dependencyLabel[dependency]} circuit breaker opened`, {
      event: 'breaker.opened',
      ...log,
      halfOpenAfterMs: settings.halfOpenAfterMs,
      lastError: entry.lastFailure === undefined ? undefined : messageOf(entry.lastFailure),
    })
  })
  policy.onHalfOpen(() => {
    logger.info(`${dependencyLabel[dependency]} circuit breaker half-open: probing`, {
      event: 'breaker.half-open',
      ...log,
    })
  })
  policy.onReset(() => {
    entry.openedAt = undefined
    logger.info(`${dependencyLabel[dependency]} circuit breaker closed`, {
      event: 'breaker.closed',
      ...log,
    })
  })
  return entry
}

/** True when `error`, or an error it wraps, is a call refused by an open breaker. */
export function isCircuitOpen(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; depth++) {
    if (e instanceof CircuitOpenError) return true
    e = e.cause
  }
  return false
}

export type BreakerStateName = 'closed' | 'open' | 'half-open'

export interface BreakerSnapshot {
  readonly dependency: Dependency
  readonly state: BreakerStateName
  /** Times it opened since the last takeOpens(). */
  readonly opens: number
  /** Calls that failed and counted, since the container started. */
  readonly failures: number
}

const stateName = (state: CircuitState): BreakerStateName =>
  state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open'
