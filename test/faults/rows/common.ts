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

/** A crashed holder's lease expires after its budget + 30 s (lib/store/bookkeeping/lease.ts): wait for that, as the next cron run would. */
export async function awaitLeaseExpiry(ctx: ScenarioContext, resources: string[]): Promise<number> {
  const claims = (await ctx.db()).collection<{
    stateId: string
    owner: string | null
    expiresAt: Date
  }>('sync_leases')
  let waited = 0
  for (const resource of resources) {
    const live = await claims
      .find({ stateId: stateId(ctx.cluster, resource), owner: { $ne: null } })
      .toArray()
    for (const claim of live) {
      const ms = claim.expiresAt.getTime() - Date.now() + 500
      if (ms > 0) {
        await sleep(ms)
        waited += ms
      }
    }
  }
  return waited
}
