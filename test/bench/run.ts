import { parseBenchArgs, usage } from './args.js'
import { benchOnce } from './bench-once.js'
import { writeScaleDocs } from './scale-docs.js'
import { ensureStack } from './stack.js'
import { formatTable } from './table.js'
import { namespaceResyncOnly } from './namespace-resync-only.js'

/*
 * npm run bench -- [--objects N] [--json] [--scale]: see docs/benchmarks.md.
 * Progress goes to stderr; the table (and with --json, one JSON object on the
 * last line) to stdout.
 */

const log = (line: string) => console.error(`bench: ${line}`)

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2))
  const env = await ensureStack(log)
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
