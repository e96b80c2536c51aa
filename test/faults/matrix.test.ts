import { describe, expect, it } from 'vitest'
import { runMatrix, selectRows } from './matrix.js'
import type { RowResult } from './scenario.js'
import { ensureStack } from './stack.js'
import { formatTable } from './table.js'

/*
 * `npm test` runs the quick subset of the fault matrix (vitest project
 * 'faults'); `npm run faults` runs every row. FAULTS_FULL=1 runs the full
 * matrix here too. Rows run one at a time, in order, against one stack.
 */
const full = process.env.FAULTS_FULL === '1'
const scenarios = selectRows({ quick: !full })

describe(`fault matrix (${full ? 'full' : 'quick'})`, () => {
  const results = new Map<number, RowResult>()
  let ready: Promise<void> | undefined

  const runAll = () =>
    (ready ??= (async () => {
      const stack = await ensureStack({ quiet: true })
      const all = await runMatrix(stack, { quick: !full })
      for (const r of all) results.set(r.row, r)
      console.log(`\n${formatTable(all)}\n`)
    })())

  for (const scenario of scenarios) {
    it(`row ${scenario.row}: ${scenario.fault}`, async (ctx) => {
      await runAll()
      const result = results.get(scenario.row)
      if (result?.status === 'skip') return ctx.skip(result.notes.join('; '))
      expect(result?.failures ?? ['row did not run']).toEqual([])
      expect(result?.status).toBe('pass')
    }, 900_000)
  }
})
