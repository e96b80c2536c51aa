/**
 * The fault matrix: `npm run faults` (every row, ~15 min on 2 cores) or
 * `npm run faults -- --quick` (the CI subset). `--row 3,7` runs chosen rows,
 * `--keep` keeps a failed row's database. Uses the stack KMS_STACK_DIR /
 * KMS_PORT_OFFSET point at, bringing it up if needed. Exits 1 if any row fails.
 */
import { runMatrix } from './matrix.js'
import { ensureStack } from './stack.js'
import { formatDetails, formatTable } from './table.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const keepFailed = args.includes('--keep')
const rowArg = args.find((a, i) => a.startsWith('--row') && (a.includes('=') || args[i + 1]))
const rowList = rowArg?.includes('=')
  ? rowArg.split('=')[1]
  : rowArg
    ? args[args.indexOf(rowArg) + 1]
    : undefined
const only = rowList
  ?.split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n))

const started = Date.now()
const stack = await ensureStack({ quiet: true })
process.stdout.write(
  `fault matrix (${only ? `rows ${only.join(',')}` : quick ? 'quick' : 'full'}) on the stack in ${stack.STACK_DIR ?? '.stack'}\n`,
)
const results = await runMatrix(stack, {
  quick,
  ...(only ? { only } : {}),
  keepFailed,
  onStart: (s) => process.stdout.write(`row ${s.row}: ${s.fault} ...\n`),
  onRow: (r) =>
    process.stdout.write(
      `row ${r.row}: ${r.status.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s${
        r.failures.length ? `\n  ${r.failures.join('\n  ')}` : ''
      }\n`,
    ),
})
process.stdout.write(`\n${formatTable(results)}\n\n`)
const details = formatDetails(results)
if (details) process.stdout.write(`${details}\n`)
const failed = results.filter((r) => r.status === 'fail')
process.stdout.write(
  `\n${results.length - failed.length}/${results.length} rows passed (${results.filter((r) => r.status === 'skip').length} skipped) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
)
process.exit(failed.length > 0 ? 1 : 0)
