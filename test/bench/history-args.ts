import { parseArgs } from 'node:util'

import { deployedReconcileMemoryMb } from './deployed-process.js'
import type { HistoryBenchOptions } from './history-bench.js'

/** The history bench's flags (history-run.ts; `npm run bench -- --history` may pass the same). */

function positive(name: string, value: string, min = 1): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name}: not an integer >= ${min}: ${value}`)
  return n
}

export function parseHistoryArgs(argv: readonly string[]): Omit<HistoryBenchOptions, 'log'> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      objects: { type: 'string', default: '5000' },
      'watch-events': { type: 'string', default: '1000' },
      'watch-rate': { type: 'string', default: '100' },
      'burst-objects': { type: 'string', default: '20' },
      'burst-updates': { type: 'string', default: '5' },
      rounds: { type: 'string', default: '2' },
      'lambda-memory': { type: 'string' },
    },
  })
  const memory = values['lambda-memory']
  return {
    objects: positive('objects', values.objects),
    watchEvents: positive('watch-events', values['watch-events']),
    watchPerSecond: positive('watch-rate', values['watch-rate']),
    burstObjects: positive('burst-objects', values['burst-objects'], 0),
    burstUpdates: positive('burst-updates', values['burst-updates']),
    rounds: positive('rounds', values.rounds),
    lambdaMemoryMb:
      memory === undefined ? deployedReconcileMemoryMb() : positive('lambda-memory', memory, 0),
  }
}
