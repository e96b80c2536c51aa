import { parseHistoryArgs } from './history-args.js'
import { historyBench } from './history-bench.js'
import { ensureStack } from './stack.js'

/*
 * The history bench alone (history-bench.ts), until `npm run bench -- --history`
 * runs it: `bash scripts/node22.sh node --import tsx test/bench/history-run.ts
 * [--objects 5000] [--watch-events 1000] [--watch-rate 100] [--burst-objects 20]
 * [--burst-updates 5] [--rounds 2] [--lambda-memory MB|0]`. Progress goes to
 * stderr, one JSON object to stdout, on its last line: the stack's build check
 * (test/stack/build.sh, spawned with stdio inherited) may print a line before it.
 */

const log = (line: string) => console.error(`bench: ${line}`)

/** Runs `fn` with console.log on stderr: the stack's progress lines, so stdout holds the JSON alone. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const out = console.log
  console.log = (...args: unknown[]) => console.error(...args)
  try {
    return await fn()
  } finally {
    console.log = out
  }
}

async function main(): Promise<void> {
  const options = parseHistoryArgs(process.argv.slice(2))
  const env = await quietly(() => ensureStack(log))
  const history = await historyBench(env, { ...options, log })
  console.log(JSON.stringify({ history }))
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
    process.exit(1)
  },
)
