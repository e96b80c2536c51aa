import { isWatch, startFaultProxy } from '../../stack/fault-proxy.js'
import { churn } from '../cluster.js'
import type { Invocation } from '../invoke.js'
import { sleep, statusOf, type Scenario, type ScenarioContext } from '../scenario.js'
import { stateId, targets } from './common.js'

const resource = 'example.com/v1/widgets'

/** Churns widgets in rounds while a watch window runs (from when the function has connected). */
function churnDuring(ctx: ScenarioContext, namespaces: readonly string[], rounds: number) {
  let started: Promise<void> | undefined
  const start = () =>
    (started ??= (async () => {
      for (let i = 0; i < rounds; i++) {
        await churn(ctx.kc, resource, namespaces, { creates: 3, updates: 3, deletes: 1 })
        await sleep(700)
      }
    })())
  return {
    onLog: (l: { event?: string }) => void (l.event === 'mongo.connected' && start()),
    done: () => started,
  }
}

async function checkpointOf(ctx: ScenarioContext): Promise<string | undefined> {
  const state = await (
    await ctx.db()
  )
    .collection<{ _id: string; watchResourceVersion?: string }>('sync_state')
    .findOne({ _id: stateId(ctx.cluster, resource) })
  return state?.watchResourceVersion ?? undefined
}

export const row04: Scenario = {
  row: 4,
  fault: 'watch stream cut mid-window (x3); watch silently stalled',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(100)
    const all = targets([resource])
    const proxy = await startFaultProxy({ kubeconfig: ctx.stack.KUBECONFIG! })
    ctx.defer(() => proxy.close())
    const env = ctx.env({ KUBECONFIG: proxy.kubeconfigPath, SYNC_RESOURCES: resource })
    const first = await ctx.invoke('reconcile', {}, env)
    ctx.expect(first.exitCode === 0, `initial reconcile exit ${first.exitCode}`)

    // Cut: the proxy kills the watch socket after 3 events, three times.
    const cut = proxy.addRule({
      match: isWatch,
      action: { kind: 'cutWatch', afterEvents: 3 },
      times: 3,
    })
    const during = churnDuring(ctx, namespaces, 5)
    ctx.faultStarts()
    const cutRun: Invocation = await ctx.invoke('watch', { windowSeconds: 10 }, env, {
      onLog: during.onLog,
    })
    await during.done()
    const reconnects = cutRun.logs.filter((l) => l.event === 'watch.reconnecting').length
    ctx.expect(cut.applied === 3, `${cut.applied} cuts, expected 3`)
    ctx.expect(reconnects >= cut.applied, `${cut.applied} cuts, ${reconnects} reconnects logged`)
    ctx.expect(
      statusOf(cutRun, resource) === 'complete',
      `cut window: ${statusOf(cutRun, resource)}`,
    )
    await ctx.expectConverged(all)

    // Stall: 200 and headers, then silence until the window ends.
    proxy.clearRules()
    const stall = proxy.addRule({ match: isWatch, action: { kind: 'stallWatch' }, times: 1 })
    const before = await checkpointOf(ctx)
    const quiet = churnDuring(ctx, namespaces, 2)
    const window = 6
    const stalled = await ctx.invoke('watch', { windowSeconds: window }, env, {
      onLog: quiet.onLog,
    })
    await quiet.done()
    const first2 = Date.parse(String(stalled.logs[0]?.timestamp ?? ''))
    const ran = stalled.endedAt - (Number.isNaN(first2) ? stalled.startedAt : first2)
    ctx.expect(stall.applied === 1, `${stall.applied} stalls`)
    ctx.expect(ran < window * 1000 + 3000, `stalled window took ${ran} ms (window ${window} s)`)
    ctx.expect(
      statusOf(stalled, resource) === 'complete',
      `stalled window: ${statusOf(stalled, resource)}`,
    )
    ctx.expect((await checkpointOf(ctx)) === before, 'the checkpoint moved during a silent window')
    const healed = await ctx.invoke('watch', { windowSeconds: 3 }, env)
    ctx.expect(healed.exitCode === 0, `next window exit ${healed.exitCode}`)
    await ctx.expectConverged(all)
    ctx.note(`cut run: ${reconnects} reconnects; stalled window ended after ${ran} ms`)
  },
}
