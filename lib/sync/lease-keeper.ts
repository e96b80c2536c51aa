import { notTransient } from '../classify.js'
import { messageOf, NotRetriedError } from '../errors.js'
import { errorFields, logger } from '../log.js'
import { retryWithBackoff, type RetryPolicy } from '../retry.js'
import type { LeaseAnswer } from '../store/bookkeeping/lease.js'

/*
 * Holding a resource's lease while its work runs
 * (docs/design.md#bookkeeping-collections).
 *
 * The lease is short (LEASE_TTL_MS) and renewed every LEASE_RENEW_INTERVAL_MS
 * while the work runs, so a holder that dies frees its resource within one
 * TTL. The holder counts its lease as ending one TTL after it *sent* its last
 * successful take or renewal, never later than the store's own expiresAt. The
 * work is stopped, through the AbortSignal it is given, when
 *  - a renewal is refused: the lease expired and someone else took it, or it
 *    is gone; or
 *  - no renewal succeeded for a whole TTL (MongoDB unreachable, the renewal
 *    hung): from then on another invocation may take the lease.
 * A renewal that fails is tried again at the next interval until then.
 *
 * The timers are unref'd (they never keep a process alive) and stop with the
 * work. A write already sent when the work is stopped still lands; it is
 * version-guarded (docs/design.md#invariant-3-no-regression-no-resurrection),
 * so it cannot undo a new holder's newer writes, and the caller refuses every
 * later store call (lib/sync/fan-out.ts), so no checkpoint follows it.
 */

/** Whatever can take, renew and give back the lease of one (cluster, resource). */
export interface LeaseHolder {
  acquireLease(owner: string, ttlMs: number): Promise<LeaseAnswer>
  renewLease(owner: string, ttlMs: number): Promise<LeaseAnswer>
  releaseLease(owner: string): Promise<void>
}

/** Whose lease, on what, and how it is kept (config.lease). */
export interface LeaseTerms {
  /** This invocation: `<function>/<request id>`. */
  readonly owner: string
  /** The resource id, for errors and log lines. */
  readonly resource: string
  readonly ttlMs: number
  readonly renewIntervalMs: number
}

/** The work's lease was lost while it ran: it was stopped, and must not write again. */
export class LeaseLostError extends NotRetriedError {
  override readonly name = 'LeaseLostError'
  override readonly reason = 'lease-lost'
}

/** Another holder's lease, as the refusal found it. */
export type LeaseRefusal = Extract<LeaseAnswer, { acquired: false }>

/** The work ran under the lease (and whether the lease was lost meanwhile), or the lease was refused. */
export type Leased<T> =
  | { readonly acquired: true; readonly value: T; readonly lost: LeaseLostError | undefined }
  | LeaseRefusal

/**
 * Releasing runs after the work, inside the deadline's safety margin: a few
 * quick attempts (0.5 s, 1 s, 2 s) fit in it. A lease left behind blocks the
 * resource until it expires (one LEASE_TTL_MS).
 */
const RELEASE_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 500,
  maxDelayMs: 2000,
  backoffMultiplier: 2,
}

/**
 * A renewal in flight when the work ends is waited for before the release:
 * both claim the next generation, and a renewal landing last would hold the
 * lease for a whole TTL after the run. A renewal is a few round trips; one
 * still going after this is stuck on a server the release cannot reach either.
 */
const IN_FLIGHT_RENEWAL_WAIT_MS = 2000

/**
 * Runs `work` while holding and renewing the resource's lease; the refusal
 * when another invocation holds it. `work` gets the signal that fires when
 * the lease is lost. A work that fails after losing the lease fails with the
 * LeaseLostError, which says why it stopped.
 */
export async function withLease<T>(
  store: LeaseHolder,
  terms: LeaseTerms,
  work: (lease: AbortSignal) => Promise<T>,
): Promise<Leased<T>> {
  const sentAt = Date.now()
  const answer = await store.acquireLease(terms.owner, terms.ttlMs)
  if (!answer.acquired) return answer
  const keeper = new LeaseKeeper(store, terms, sentAt + terms.ttlMs)
  try {
    const value = await work(keeper.signal)
    return { acquired: true, value, lost: keeper.lost() }
  } catch (error) {
    throw keeper.lost() ?? error
  } finally {
    await keeper.stop()
    // Also after a loss: a lease that expired untaken is still ours, and freed at once.
    await release(store, terms)
  }
}

async function release(store: LeaseHolder, terms: LeaseTerms): Promise<void> {
  await retryWithBackoff(() => store.releaseLease(terms.owner), 'release lease', {
    policy: RELEASE_POLICY,
    isFatal: notTransient,
  }).catch((error: unknown) => {
    // The lease expires by itself; the next run after that takes it over.
    logger.warn('lease not released; it expires by itself', {
      event: 'lease.release-failed',
      resource: terms.resource,
      ...errorFields(error),
    })
  })
}

/** Renews one lease every interval until stopped, and aborts its signal once the lease is lost. */
class LeaseKeeper {
  readonly #controller = new AbortController()
  readonly #store: LeaseHolder
  readonly #terms: LeaseTerms
  #renewTimer: NodeJS.Timeout | undefined
  #expiryTimer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> | undefined
  #lastFailure: unknown
  #stopped = false

  constructor(store: LeaseHolder, terms: LeaseTerms, expiresAt: number) {
    this.#store = store
    this.#terms = terms
    this.#expireAt(expiresAt)
    this.#scheduleRenewal()
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  lost(): LeaseLostError | undefined {
    return this.signal.aborted ? (this.signal.reason as LeaseLostError) : undefined
  }

  /** No more renewals; resolves once a renewal in flight has settled (or IN_FLIGHT_RENEWAL_WAIT_MS). */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#renewTimer)
    clearTimeout(this.#expiryTimer)
    if (this.#inFlight) await settledWithin(this.#inFlight, IN_FLIGHT_RENEWAL_WAIT_MS)
  }

  #over(): boolean {
    return this.#stopped || this.signal.aborted
  }

  #scheduleRenewal(): void {
    this.#renewTimer = setTimeout(() => {
      this.#inFlight = this.#renew()
    }, this.#terms.renewIntervalMs)
    this.#renewTimer.unref()
  }

  #expireAt(at: number): void {
    clearTimeout(this.#expiryTimer)
    this.#expiryTimer = setTimeout(
      () => this.#lose(notRenewed(this.#terms, at, this.#lastFailure)),
      Math.max(0, at - Date.now()),
    )
    this.#expiryTimer.unref()
  }

  async #renew(): Promise<void> {
    const { owner, ttlMs, resource } = this.#terms
    const sentAt = Date.now()
    let answer: LeaseAnswer
    try {
      answer = await this.#store.renewLease(owner, ttlMs)
    } catch (error) {
      if (this.#over()) return
      this.#lastFailure = error
      logger.warn('lease not renewed; trying again until it expires', {
        event: 'lease.renew-failed',
        resource,
        owner,
        ...errorFields(error),
      })
      return this.#scheduleRenewal()
    }
    if (this.#over()) return
    if (!answer.acquired) return this.#lose(refusedRenewal(this.#terms, answer))
    this.#lastFailure = undefined
    this.#expireAt(sentAt + ttlMs)
    this.#scheduleRenewal()
  }

  #lose(error: LeaseLostError): void {
    if (this.#over()) return
    clearTimeout(this.#renewTimer)
    clearTimeout(this.#expiryTimer)
    logger.error(error.message, {
      event: 'lease.lost',
      resource: this.#terms.resource,
      owner: this.#terms.owner,
      ...errorFields(error),
    })
    this.#controller.abort(error)
  }
}

/** Waits for `work` (which never rejects), but no longer than `ms`. */
async function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    timer.unref()
  })
  await Promise.race([work, late])
  clearTimeout(timer)
}

function notRenewed(terms: LeaseTerms, expiredAt: number, lastFailure: unknown): LeaseLostError {
  const failure =
    lastFailure === undefined ? '' : `; last renewal failed: ${messageOf(lastFailure)}`
  return new LeaseLostError(
    `lease of ${terms.resource} lost: not renewed within ${terms.ttlMs} ms, it expired at ${new Date(expiredAt).toISOString()}${failure}`,
    { context: { resource: terms.resource, operation: 'renew lease' }, cause: lastFailure },
  )
}

function refusedRenewal(terms: LeaseTerms, refusal: LeaseRefusal): LeaseLostError {
  const until = refusal.expiresAt?.toISOString() ?? 'unknown'
  const why =
    refusal.holder === null
      ? 'nobody holds it any more'
      : refusal.holder === terms.owner
        ? `it expired at ${until} before it was renewed`
        : `taken over by ${refusal.holder}, whose lease expires at ${until}`
  return new LeaseLostError(`lease of ${terms.resource} lost: ${why}`, {
    context: { resource: terms.resource, operation: 'renew lease' },
  })
}
