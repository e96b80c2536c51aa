import { churn } from '../cluster.js'
import type { Invocation } from '../invoke.js'
import { sleep, type Scenario, type ScenarioContext } from '../scenario.js'
import { awaitLeaseExpiry, stateId, targets } from './common.js'

const cm = 'v1/configmaps'
const widgets = 'example.com/v1/widgets'

interface State {
  listResourceVersion?: string
  watchResourceVersion?: string
}

async function stateOf(ctx: ScenarioContext, resource: string): Promise<State | null> {
  return (await ctx.db())
    .collection<State & { _id: string }>('sync_state')
    .findOne({ _id: stateId(ctx.cluster, resource) })
}

const killOn =
  (event: string) =>
  (line: { event?: string }, child: { kill: (s: NodeJS.Signals) => boolean }) => {
    if (line.event === event) child.kill('SIGKILL')
  }

/** SIGKILL right after a chunk is acknowledged, before the checkpoint that covers it: reconcile and watch. */
export const row13: Scenario = {
  row: 13,
  fault: 'process SIGKILLed between a write and its checkpoint',
  quick: false,
  async run(ctx) {
    const namespaces = await ctx.seed(300)
    const all = [...targets([cm], namespaces), ...targets([widgets])]
    // Small budgets keep the crashed leases short (budget - 10 s margin + 30 s grace).
    const env = ctx.env({
      SYNC_RESOURCES: `${cm},${widgets}`,
      K8S_LIST_PAGE_SIZE: '20',
      BULK_WRITE_BATCH_SIZE: '10',
      BULK_WRITE_BATCH_DELAY_MS: '200',
      RUN_BUDGET_MS: '20000',
    })
    // Setup, not the fault: the first full list of Widgets gets a budget that fits
    // however many the cluster holds (other tests leave theirs behind).
    const setup = ctx.env({ SYNC_RESOURCES: `${cm},${widgets}`, RUN_BUDGET_MS: '120000' })
    const first = await ctx.invoke('reconcile', { resources: [widgets] }, setup)
    ctx.expect(first.exitCode === 0, `initial widgets reconcile exit ${first.exitCode}`)
    const watchFrom = (await stateOf(ctx, widgets))?.watchResourceVersion

    // Reconcile killed after its first acknowledged chunk: documents written, no checkpoint.
    ctx.faultStarts()
    const killedList: Invocation = await ctx.invoke(
      'reconcile',
      { resources: [cm], namespaces },
      env,
      {
        onLog: killOn('chunk.processed'),
      },
    )
    ctx.expect(
      killedList.signal === 'SIGKILL',
      `reconcile was not killed (exit ${killedList.exitCode})`,
    )
    const written = await (await ctx.db()).collection('configmaps').countDocuments()
    ctx.expect(written > 0, 'the killed reconcile wrote nothing before the kill')

    // Watch killed after its first acknowledged write of events, before saveWatchCheckpoint.
    let churning: Promise<void> | undefined
    const killedWatch = await ctx.invoke('watch', { resources: [widgets], windowSeconds: 8 }, env, {
      onLog: (line, child) => {
        if (line.event === 'mongo.connected')
          churning ??= sleep(800).then(() =>
            churn(ctx.kc, widgets, namespaces, { creates: 5, updates: 5, deletes: 2 }),
          )
        killOn('chunk.processed')(line, child)
      },
    })
    await churning
    ctx.expect(
      killedWatch.signal === 'SIGKILL',
      `watch was not killed (exit ${killedWatch.exitCode})`,
    )
    const after = (await stateOf(ctx, widgets))?.watchResourceVersion
    ctx.note(
      `killed: reconcile after ${written} documents (checkpoint ${(await stateOf(ctx, cm))?.listResourceVersion ?? 'none'}), ` +
        `watch checkpoint ${watchFrom} -> ${after} (${after === watchFrom ? 'not saved: killed between write and checkpoint' : 'saved before the kill landed'})`,
    )

    const waited = await awaitLeaseExpiry(ctx, [cm, widgets])
    ctx.note(`waited ${(waited / 1000).toFixed(1)} s for the crashed leases to expire`)
    const healList = await ctx.invoke('reconcile', { resources: [cm], namespaces }, env)
    const healWatch = await ctx.invoke('watch', { resources: [widgets], windowSeconds: 3 }, env)
    ctx.expect(
      healList.exitCode === 0 && healWatch.exitCode === 0,
      `next runs exit ${healList.exitCode}, ${healWatch.exitCode}`,
    )
    await ctx.expectConverged(all)
  },
}
