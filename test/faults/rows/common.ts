import type { ScenarioContext } from '../scenario.js'
import { sleep } from '../scenario.js'
import type { Target } from '../checker.js'
import { kinds, type SeededResource } from '../cluster.js'

export const allSeeded = Object.keys(kinds) as SeededResource[]

export function targets(
  resources: readonly SeededResource[],
  namespaces?: readonly string[],
): Target[] {
  return resources.map((resource) => ({
    resource,
    kind: kinds[resource],
    ...(namespaces ? { namespaces } : {}),
  }))
}

export const syncResources = (resources: readonly string[]) => resources.join(',')

/** sync_state `_id` (docs/design.md): `<cluster>/<group>/<version>/<plural>`, group empty for the core group. */
export function stateId(cluster: string, resource: string): string {
  const parts = resource.split('/')
  const [group, version, plural] = parts.length === 2 ? ['', parts[0], parts[1]] : parts
  return `${cluster}/${group}/${version}/${plural}`
}

/** One claim of `sync_leases` (lib/store/bookkeeping/lease.ts). */
interface LeaseClaim {
  stateId: string
  generation: number
  owner: string | null
  expiresAt: Date
}

/** The lease of `resource` as its newest claim stands: who holds it and until when; undefined when nobody does. */
export async function leaseOf(
  ctx: ScenarioContext,
  resource: string,
): Promise<{ owner: string; expiresAt: Date } | undefined> {
  const claim = await (
    await ctx.db()
  )
    .collection<LeaseClaim>('sync_leases')
    .find({ stateId: stateId(ctx.cluster, resource) })
    .sort({ generation: -1 })
    .limit(1)
    .next()
  return claim?.owner ? { owner: claim.owner, expiresAt: claim.expiresAt } : undefined
}

/**
 * A crashed holder's lease expires one LEASE_TTL_MS (a minute) after its last
 * renewal (lib/sync/lease-keeper.ts), whatever the run's budget: wait for
 * that, as the next scheduled run would. Returns the time waited.
 */
export async function awaitLeaseExpiry(ctx: ScenarioContext, resources: string[]): Promise<number> {
  let waited = 0
  for (const resource of resources) {
    const lease = await leaseOf(ctx, resource)
    const ms = lease ? lease.expiresAt.getTime() - Date.now() + 500 : 0
    if (ms > 0) {
      await sleep(ms)
      waited += ms
    }
  }
  return waited
}
