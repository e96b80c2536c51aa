import { MongoClient } from 'mongodb'

import { loadConfig } from '../../lib/config.js'
import { logger } from '../../lib/log.js'
import { collectionNameOf, parseResourceRef } from '../../lib/resource-ref.js'
import { createDeadline } from '../../lib/sync/deadline.js'
import { runReconcile } from '../../lib/sync/reconcile-run.js'
import { runWatch } from '../../lib/sync/watch-run.js'
import type { ChildCommand, ChildReply, ChildSetup } from './child-protocol.js'
import { BENCH_CLUSTER, BENCH_RESOURCE } from './configs.js'
import { inProcessSync } from './in-process-sync.js'
import { startMemorySampler } from './memory-sampler.js'
import { monitorWrites } from './write-monitor.js'

/*
 * Our sync, alone in its own process so that its memory can be sampled
 * without the bench's baselines in the same heap. Started by run.ts with the
 * setup as JSON in argv[2]; commands and replies go over the IPC channel.
 */

const RUN_BUDGET_MS = 30 * 60_000

const send = (reply: ChildReply) => process.send?.(reply)

async function main(): Promise<void> {
  const sampler = startMemorySampler(50)
  const setup = JSON.parse(process.argv[2] ?? '{}') as ChildSetup
  // Production logs at INFO; the lines go to the child's stdout, which run.ts discards.
  logger.setLogLevel(process.env.BENCH_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN')
  const config = loadConfig({
    MONGODB_URI: setup.mongoUri,
    KUBECONFIG: setup.kubeconfig,
    CLUSTER_NAME: BENCH_CLUSTER,
    SYNC_RESOURCES: BENCH_RESOURCE,
    ...setup.settings,
  })
  const mongo = await new MongoClient(setup.mongoUri, {
    monitorCommands: true,
    maxPoolSize: config.mongodb.poolMax,
    minPoolSize: config.mongodb.poolMin,
    connectTimeoutMS: config.mongodb.connectTimeoutMs,
    socketTimeoutMS: config.mongodb.socketTimeoutMs,
    serverSelectionTimeoutMS: config.mongodb.serverSelectionTimeoutMs,
  }).connect()
  const db = mongo.db(setup.dbName)
  const writes = monitorWrites(mongo, collectionNameOf(parseResourceRef(BENCH_RESOURCE)!))
  const deps = inProcessSync(config, db, setup.kubeconfig, `bench-${process.pid}`)

  const handle = async (command: ChildCommand): Promise<void> => {
    if (command.type === 'exit') {
      await mongo.close()
      send({ type: 'memory', memory: sampler.stop() })
      process.disconnect?.()
      return
    }
    const deadline = createDeadline(RUN_BUDGET_MS, 0)
    writes.reset()
    const t0 = performance.now()
    try {
      if (command.type === 'reconcile') {
        const input = command.namespaces ? { namespaces: [...command.namespaces] } : {}
        const output = await runReconcile(deps(deadline), input)
        const report = output.resources[0]!
        if (report.status !== 'complete')
          throw new Error(`reconcile ${report.status}: ${report.error}`)
        const ms = Math.round(performance.now() - t0)
        send({
          type: 'reconciled',
          id: command.id,
          ms,
          report,
          statements: writes.statements(),
          mongoMs: writes.commandMs(),
        })
      } else {
        writes.trackAcks(true)
        const output = await runWatch(deps(deadline), { windowSeconds: command.windowSeconds })
        writes.trackAcks(false)
        const report = output.resources[0]!
        if (report.status !== 'complete') throw new Error(`watch ${report.status}: ${report.error}`)
        const ms = Math.round(performance.now() - t0)
        const acks = writes.acks()
        send({ type: 'watched', id: command.id, ms, report, statements: writes.statements(), acks })
      }
    } finally {
      deadline.dispose()
      const phase = sampler.phase()
      process.stderr.write(
        `bench: sync child ${command.type} ${command.id}: peak RSS ${phase.peakRssMb} MB, heap ${phase.peakHeapMb} MB, live after full GC ${phase.peakLiveHeapMb > 0 ? `${phase.peakLiveHeapMb} MB` : 'n/a (no full GC in this phase)'}\n`,
      )
    }
  }

  process.on('message', (command: ChildCommand) => {
    handle(command).catch((error: unknown) =>
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
    )
  })
  send({ type: 'ready' })
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
  process.exitCode = 1
})
