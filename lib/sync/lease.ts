import { errorFields, logger } from '../log.js'
import { retryWithBackoff, type RetryPolicy } from '../retry.js'
import type { ResourceStore } from './ports.js'

/**
 * Extra lease time beyond the work's own budget, so a lease is not taken over
 * while its holder is saving the checkpoint; a crashed holder's lease expires
 * after budget + this.
 */
export const LEASE_GRACE_MS = 30_000

/**
 * Releasing runs after the work, inside the deadline's safety margin: a few
 * quick attempts (0.5 s, 1 s, 2 s) fit in it. A lease left behind blocks the
 * resource until it expires (budget + grace, up to ~15 min in Lambda).
 */
const RELEASE_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 500,
  maxDelayMs: 2000,
  backoffMultiplier: 2,
}

/** Runs `work` while holding the resource's lease; undefined when another invocation holds it. */
export async function withLease<T>(
  store: ResourceStore,
  owner: string,
  budgetMs: number,
  work: () => Promise<T>,
): Promise<T | undefined> {
  if (!(await store.acquireLease(owner, budgetMs + LEASE_GRACE_MS))) return undefined
  try {
    return await work()
  } finally {
    await retryWithBackoff(() => store.releaseLease(owner), 'release lease', {
      policy: RELEASE_POLICY,
    }).catch((error: unknown) => {
      // The lease expires by itself; the next run after that takes it over.
      logger.warn('lease not released; it expires by itself', {
        event: 'lease.release-failed',
        ...errorFields(error),
      })
    })
  }
}
