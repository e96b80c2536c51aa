import type { ResourceStore } from './ports.js'

/**
 * Extra lease time beyond the work's own budget, so a lease is not taken over
 * while its holder is saving the checkpoint; a crashed holder's lease expires
 * after budget + this.
 */
export const LEASE_GRACE_MS = 30_000

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
    // Best effort: an expired lease is taken over anyway.
    await store.releaseLease(owner).catch(() => undefined)
  }
}
