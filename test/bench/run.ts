import { parseBenchArgs, usage } from './args.js'
import { benchOnce } from './bench-once.js'
import { writeScaleDocs } from './scale-docs.js'
import { up } from '../stack/up.js'
import { ensureStack } from './stack.js'
import { formatTable } from './table.js'
import { namespaceResyncOnly } from './namespace-resync-only.js'
import { benchFleet } from './fleet.js'
import { parseHistoryArgs } from './history-args.js'
import { historyBench } from './history-bench.js'

/*
 * npm run bench -- [--objects N] [--json] [--scale] [--fleet]: see docs/benchmarks.md.
 * --fleet runs only the fleet figures (fleet.ts), not the single-cluster ones; --history only
 * the history figures (history-bench.ts), with history-args.ts's flags.
 * Progress goes to stderr; the table (and with --json, one JSON object on the
 * last line) to stdout.
 */

const log = (line: string) => console.error(`bench: ${line}`)

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv.includes('--history')) {
    // Its own flags (history-args.ts: --objects, --rounds, --watch-rate...).
    const options = parseHistoryArgs(argv.filter((a) => a !== '--history' && a !== '--json'))
    const history = await historyBench(await ensureStack(log), { ...options, log })
    console.log(JSON.stringify({ history }))
    return
  }
  const args = parseBenchArgs(argv)
  // The fleet figures need three clusters; `up` then keeps as many as run.
  if (args.fleet) await up({ minClusters: 3 })
  const env = await ensureStack(log)
  if (args.fleet) {
    const fleet = await benchFleet(env, log)
    console.log(JSON.stringify({ fleet }))
    return
  }
  if (args.namespaceResyncOnly) {
    const figure = await namespaceResyncOnly(env, args, log)
    console.log(JSON.stringify({ objects: args.objects, namespaceResync: figure }))
    return
  }
  const run = (objects: number) =>
    benchOnce(env, {
      objects,
      watchEvents: args.watchEvents,
      watchPerSecond: args.watchPerSecond,
      naiveCapMs: args.naiveCapMs,
      lambdaMemoryMb: args.lambdaMemoryMb,
      log,
      ...(args.cpuProfileDir ? { cpuProfileDir: args.cpuProfileDir } : {}),
    })
  if (args.scale) {
    const outcomes = []
    for (const objects of args.scaleSizes) {
      const outcome = await run(objects)
      console.log(`${formatTable(outcome)}\n`)
      outcomes.push(outcome)
      writeScaleDocs(outcomes)
    }
    log('wrote docs/benchmarks.md and docs/benchmarks.svg')
    if (args.json) console.log(JSON.stringify(outcomes.map((o) => o.result)))
    return
  }
  const outcome = await run(args.objects)
  console.log(formatTable(outcome))
  if (args.json) console.log(JSON.stringify(outcome.result))
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
    console.error(usage)
    process.exit(1)
  },
)
