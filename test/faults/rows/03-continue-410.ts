import {
  and,
  isContinuePage,
  isList,
  pathMatches,
  startFaultProxy,
} from '../../stack/fault-proxy.js'
import { apiServerCompactionLagMs, compactEtcd } from '../../stack/control.js'
import { churn } from '../cluster.js'
import { eventsOf, statusOf, type Scenario } from '../scenario.js'
import { targets } from './common.js'

/*
 * A real 410 on a continue token: the list is slowed (1 s per continue page,
 * through the fault proxy) while the cluster changes and etcd is compacted;
 * the API server notices the compaction within apiServerCompactionLagMs and
 * answers the next continue page with its own 410 Expired.
 */
export const row03: Scenario = {
  row: 3,
  fault: 'real 410 on a continue token (etcd compacted mid-list)',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(300, 300)
    const resource = 'v1/configmaps'
    const all = targets([resource], namespaces)
    const proxy = await startFaultProxy({ kubeconfig: ctx.stack.KUBECONFIG! })
    ctx.defer(() => proxy.close())
    const env = ctx.env({
      KUBECONFIG: proxy.kubeconfigPath,
      SYNC_RESOURCES: resource,
      K8S_LIST_PAGE_SIZE: '5',
    })

    const slow = proxy.addRule({
      match: and(isList, isContinuePage, pathMatches(/\/configmaps$/)),
      action: { kind: 'delay', ms: 1000 },
      times: Infinity,
    })
    let compaction: Promise<number> | undefined
    ctx.faultStarts()
    const inv = await ctx.invoke('reconcile', { namespaces }, env, {
      onLog: (line) => {
        if (line.event === 'reconcile.page' && line.page === 1 && !compaction) {
          compaction = churn(ctx.kc, resource, namespaces, {
            creates: 5,
            updates: 5,
            deletes: 5,
          }).then(() => compactEtcd())
        }
        if (line.event === 'list.restart' || line.event === 'list.inconsistent-continue')
          proxy.clearRules()
      },
      timeoutMs: apiServerCompactionLagMs + 90_000,
    })
    await compaction
    const expired = inv.logs.filter(
      (l) => l.event === 'list.restart' || l.event === 'list.inconsistent-continue',
    )
    ctx.expect(expired.length > 0, `no 410 seen (continue pages delayed: ${slow.applied})`)
    ctx.expect(
      proxy.requests.some((r) => r.status === 410 && r.fault !== 'expired'),
      'the 410 did not come from the real API server',
    )
    ctx.note(
      `410 after ${slow.applied} delayed continue pages; ${expired.map((l) => l.event).join(', ')}`,
    )
    if (
      eventsOf(inv, 'reconcile.inconsistent').length > 0 ||
      statusOf(inv, resource) !== 'complete'
    ) {
      ctx.note(`run 1: ${statusOf(inv, resource)}; running again as the design says`)
      await ctx.invoke('reconcile', { namespaces }, env)
    } else {
      ctx.expect(inv.exitCode === 0, `exit ${inv.exitCode}`)
    }
    await ctx.expectConverged(all)
  },
}
