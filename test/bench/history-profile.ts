import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent } from 'mongodb'

import { loadConfig } from '../../lib/config.js'
import { logger } from '../../lib/log.js'
import { createDeadline } from '../../lib/sync/deadline.js'
import { runReconcile } from '../../lib/sync/reconcile-run.js'
import { runWatch } from '../../lib/sync/watch-run.js'
import { BENCH_CLUSTER, BENCH_RESOURCE, tunedSettings } from './configs.js'
import { makeBurstChanges } from './history-changes.js'
import { inProcessSync } from './in-process-sync.js'
import { kubeHttp } from './kube-http.js'
import { ensureBenchObjects, listBenchObjects } from './seeding.js'
import { sleep } from './sleep.js'
import { ensureStack } from './stack.js'
import { percentile } from './stats.js'
import { makeSteadyChanges } from './watch-lag.js'

/*
 * Where a watch flush spends its time, history on beside off (issue 19): every
 * MongoDB command of one watch window through the driver's command
 * monitoring, grouped by flush (a flush ends with its checkpoint, an update of
 * sync_state). In-process and unbundled, so for round trips and their
 * durations, not for lag figures (history-bench.ts measures those).
 * `bash scripts/node22.sh node --import tsx test/bench/history-profile.ts
 * [changes=300] [rate=100]`
 */

interface Command {
  readonly name: string
  readonly collection: string
  readonly started: number
  ms: number
}

const log = (line: string) => console.error(`profile: ${line}`)

async function arm(
  history: boolean,
  env: Record<string, string | undefined>,
  changes: number,
  rate: number,
) {
  const dbName = `kmsprofile_${history ? 'on' : 'off'}`
  const config = loadConfig({
    MONGODB_URI: env.MONGODB_URI,
    KUBECONFIG: env.KUBECONFIG,
    CLUSTER_NAME: BENCH_CLUSTER,
    SYNC_RESOURCES: BENCH_RESOURCE,
    ...tunedSettings,
    ...(history ? { HISTORY_RESOURCES: BENCH_RESOURCE } : {}),
  })
  const mongo = await new MongoClient(env.MONGODB_URI!, {
    monitorCommands: true,
    maxPoolSize: config.mongodb.poolMax,
  }).connect()
  const db = mongo.db(dbName)
  await db.dropDatabase()
  const commands: Command[] = []
  const pending = new Map<number, Command>()
  let tracking = false
  mongo.on('commandStarted', (e: CommandStartedEvent) => {
    if (!tracking) return
    const collection = String(e.command[e.commandName] ?? '')
    const c = { name: e.commandName, collection, started: performance.now(), ms: 0 }
    pending.set(e.requestId, c)
    commands.push(c)
  })
  mongo.on('commandSucceeded', (e: CommandSucceededEvent) => {
    const c = pending.get(e.requestId)
    if (c) c.ms = e.duration
    pending.delete(e.requestId)
  })
  const deps = inProcessSync(config, db, env.KUBECONFIG!, `profile-${process.pid}`)
  const deadline = createDeadline(30 * 60_000, 0)
  await runReconcile(deps(deadline), {})
  const http = await kubeHttp(env.KUBECONFIG!)
  const targets = await listBenchObjects(http)
  tracking = true
  const watching = runWatch(deps(deadline), {
    windowSeconds: Math.ceil(changes / rate) + 8,
  })
  await sleep(2_000)
  await makeSteadyChanges(http, targets.slice(history ? 0 : changes), changes, rate)
  await makeBurstChanges(http, targets.slice(targets.length - 20), 5)
  const out = await watching
  tracking = false
  deadline.dispose()
  http.close()
  await db.dropDatabase()
  await mongo.close()
  return { report: out.resources[0], commands }
}

/** Per flush (commands up to each checkpoint update): round trips and milliseconds, per kind. */
function summarize(commands: readonly Command[]) {
  const flushes: Command[][] = []
  let current: Command[] = []
  for (const c of commands) {
    current.push(c)
    if (c.collection === 'sync_state' && c.name === 'update') {
      flushes.push(current)
      current = []
    }
  }
  const busy = flushes.filter((f) =>
    f.some((c) => c.collection === 'configmaps' && c.name !== 'find'),
  )
  const kinds = new Map<string, { n: number; ms: number }>()
  for (const f of busy)
    for (const c of f) {
      const key = `${c.name} ${c.collection}`
      const k = kinds.get(key) ?? { n: 0, ms: 0 }
      k.n++
      k.ms += c.ms
      kinds.set(key, k)
    }
  const spans = busy.map((f) => {
    const end = f[f.length - 1]!
    return end.started + end.ms - f[0]!.started
  })
  return {
    flushes: busy.length,
    flushMsP50: Math.round(percentile(spans, 50)),
    flushMsP99: Math.round(percentile(spans, 99)),
    perFlush: Object.fromEntries(
      [...kinds].map(([k, v]) => [
        k,
        { roundTrips: +(v.n / busy.length).toFixed(1), ms: +(v.ms / busy.length).toFixed(1) },
      ]),
    ),
  }
}

async function main() {
  logger.setLogLevel('WARN')
  const changes = Number(process.argv[2] ?? 300)
  const rate = Number(process.argv[3] ?? 100)
  const env = await ensureStack(log)
  const http = await kubeHttp(env.KUBECONFIG!)
  await ensureBenchObjects(http, 5000, log)
  http.close()
  for (const history of [false, true, true, false]) {
    const { report, commands } = await arm(history, env, changes, rate)
    console.log(
      JSON.stringify({ history, events: report?.events, ...summarize(commands) }, null, 1),
    )
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
