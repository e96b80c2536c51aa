import { and, isList, pathMatches, startFaultProxy } from '../../stack/fault-proxy.js'
import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { churn } from '../cluster.js'
import type { Invocation } from '../invoke.js'
import { statusOf, type Scenario, type ScenarioContext } from '../scenario.js'
import { stateId, targets } from './common.js'

/*
 * The handler keeps 10 s of the budget back (DEFAULT_SAFETY_MARGIN_MS): 20 s
 * leaves 10 s of work. The faults start only once the run is past its setup
 * (connect, indexes, lease, version index), so a slow cold start on a busy
 * machine cannot spend the budget before the list or the writes begin.
 */
const BUDGET_MS = 20_000
/** Mid-list: every Widget page (2 objects) takes 800 ms; a full list needs about 24 s. */
const PAGE_DELAY_MS = 800
/**
 * Mid-write: 40 ConfigMaps in 10 chunks of 4; after the first, each chunk takes
 * 1.5-2.5 s, so the budget ends with some written and some not started, and a
 * chunk in flight at the deadline still leaves time to release the lease.
 */
const MID_WRITE_BUDGET_MS = 20_000
const WRITE_LATENCY_MS = 1_200

function ranMs(inv: Invocation): number {
  const first = Date.parse(String(inv.logs[0]?.timestamp ?? ''))
  return inv.endedAt - (Number.isNaN(first) ? inv.startedAt : first)
}

async function listCheckpoint(ctx: ScenarioContext, resource: string) {
  const state = await (
    await ctx.db()
  )
    .collection<{ _id: string; listResourceVersion?: string }>('sync_state')
    .findOne({ _id: stateId(ctx.cluster, resource) })
  return state?.listResourceVersion ?? undefined
}

export const row11: Scenario = {
  row: 11,
  fault: 'Lambda deadline reached mid-list and mid-write',
  quick: true,
  async run(ctx) {
    const namespaces = await ctx.seed(300)
    const cm = 'v1/configmaps'
    const widgets = 'example.com/v1/widgets'
    const all = [...targets([widgets]), ...targets([cm], namespaces)]

    // Mid-list: every Widget page is delayed by the fault proxy.
    const full = await ctx.invoke('reconcile', {}, ctx.env({ SYNC_RESOURCES: widgets }))
    ctx.expect(full.exitCode === 0, `initial reconcile exit ${full.exitCode}`)
    await churn(ctx.kc, widgets, namespaces, { creates: 5, updates: 5, deletes: 5 })
    const checkpoint = await listCheckpoint(ctx, widgets)
    const proxy = await startFaultProxy({ kubeconfig: ctx.stack.KUBECONFIG! })
    ctx.defer(() => proxy.close())
    proxy.addRule({
      match: and(isList, pathMatches(/\/widgets$/)),
      action: { kind: 'delay', ms: PAGE_DELAY_MS },
      times: Infinity,
    })
    ctx.faultStarts()
    const midList = await ctx.invoke(
      'reconcile',
      {},
      ctx.env({
        KUBECONFIG: proxy.kubeconfigPath,
        SYNC_RESOURCES: widgets,
        K8S_LIST_PAGE_SIZE: '2',
        RUN_BUDGET_MS: String(BUDGET_MS),
      }),
    )
    const r1 = midList.result?.resources[0]
    ctx.expect(
      midList.exitCode === 2 && statusOf(midList, widgets) === 'partial',
      `mid-list: exit ${midList.exitCode}, ${statusOf(midList, widgets)}`,
    )
    ctx.expect((r1?.pages ?? 0) > 0, `mid-list run listed no page: ${r1?.error}`)
    ctx.expect(r1?.deleted === 0, `mid-list run deleted ${r1?.deleted}`)
    ctx.expect(
      ranMs(midList) < BUDGET_MS,
      `mid-list run took ${ranMs(midList)} ms of a ${BUDGET_MS} ms budget`,
    )
    ctx.expect(
      (await listCheckpoint(ctx, widgets)) === checkpoint,
      'the checkpoint moved after a partial list',
    )
    ctx.note(`mid-list: ${r1?.pages} pages, stopped after ${ranMs(midList)} ms: ${r1?.error}`)

    // Mid-write: chunks of 4, one at a time; MongoDB turns slow once the first chunk is written.
    const toxiproxy = new ToxiproxyClient(ctx.stack.TOXIPROXY_URL)
    let slowed: Promise<void> | undefined
    const slowAfterFirstChunk = (line: { event?: string }) => {
      if (line.event !== 'chunk.processed' || slowed) return
      slowed = toxiproxy
        .addToxic('mongo', {
          type: 'latency',
          name: 'slow',
          attributes: { latency: WRITE_LATENCY_MS },
        })
        .then(() => undefined)
    }
    const midWrite = await ctx.invoke(
      'reconcile',
      { namespaces },
      ctx.env({
        MONGODB_URI: ctx.stack.MONGODB_URI_TOXIPROXY,
        SYNC_RESOURCES: cm,
        BULK_WRITE_BATCH_SIZE: '4',
        BULK_WRITE_MAX_CONCURRENT: '1',
        RUN_BUDGET_MS: String(MID_WRITE_BUDGET_MS),
      }),
      { onLog: slowAfterFirstChunk },
    )
    if (slowed) {
      await slowed
      await toxiproxy.removeToxic('mongo', 'slow')
    }
    const r2 = midWrite.result?.resources[0]
    const chunks = midWrite.logs.filter((l) => l.event === 'chunk.processed').length
    ctx.expect(
      midWrite.exitCode === 2 && statusOf(midWrite, cm) === 'partial',
      `mid-write: exit ${midWrite.exitCode}, ${statusOf(midWrite, cm)} ${r2?.error ?? ''}`,
    )
    ctx.expect(chunks > 0, 'no chunk was written before the deadline')
    ctx.expect(
      ranMs(midWrite) < MID_WRITE_BUDGET_MS,
      `mid-write run took ${ranMs(midWrite)} ms of a ${MID_WRITE_BUDGET_MS} ms budget`,
    )
    ctx.note(
      `mid-write: ${chunks} chunks written, stopped after ${ranMs(midWrite)} ms: ${r2?.error}`,
    )

    const healed = await ctx.invoke('reconcile', {}, ctx.env({ SYNC_RESOURCES: widgets }))
    const healed2 = await ctx.invoke('reconcile', { namespaces }, ctx.env({ SYNC_RESOURCES: cm }))
    ctx.expect(
      healed.exitCode === 0 && healed2.exitCode === 0,
      `next runs exit ${healed.exitCode}, ${healed2.exitCode}`,
    )
    await ctx.expectConverged(all)
  },
}
