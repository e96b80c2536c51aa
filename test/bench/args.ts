import { parseArgs } from 'node:util'

import { deployedReconcileMemoryMb } from './deployed-process.js'

export interface BenchArgs {
  readonly objects: number
  readonly json: boolean
  readonly scale: boolean
  readonly scaleSizes: readonly number[]
  readonly watchEvents: number
  readonly watchPerSecond: number
  readonly cpuProfileDir?: string
  readonly naiveCapMs: number
  /** The sync child runs with Lambda's heap flags for this memory (MB); 0: plain node. */
  readonly lambdaMemoryMb: number
  /** Only the namespaced resync figure (namespace-resync.ts). */
  readonly namespaceResyncOnly: boolean
  /** Only the fleet figures (fleet.ts): planning, per-task overhead, queue vs inline, cold start. */
  readonly fleet: boolean
}

export const usage =
  'usage: npm run bench -- [--objects N] [--json] [--scale [--sizes 5000,20000,100000]] [--watch-events 1000] [--watch-rate 100] [--cpu-prof DIR] [--naive-cap-seconds 120] [--lambda-memory MB|0] [--namespace-resync-only] [--fleet] [--history]'

function megabytes(value: string | undefined): number {
  if (value === undefined) return deployedReconcileMemoryMb()
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || (n > 0 && n < 128))
    throw new Error(`--lambda-memory: not a Lambda memory size in MB (128 or more, or 0): ${value}`)
  return n
}

function count(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: not a positive integer: ${value}`)
  return n
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      objects: { type: 'string', default: '20000' },
      json: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '5000,20000,100000' },
      'watch-events': { type: 'string', default: '1000' },
      'watch-rate': { type: 'string', default: '100' },
      'cpu-prof': { type: 'string' },
      'naive-cap-seconds': { type: 'string', default: '120' },
      'lambda-memory': { type: 'string' },
      'namespace-resync-only': { type: 'boolean', default: false },
      fleet: { type: 'boolean', default: false },
    },
  })
  return {
    objects: count('objects', values.objects),
    json: values.json,
    scale: values.scale,
    scaleSizes: values.sizes.split(',').map((s) => count('sizes', s.trim())),
    watchEvents: count('watch-events', values['watch-events']),
    watchPerSecond: count('watch-rate', values['watch-rate']),
    naiveCapMs: count('naive-cap-seconds', values['naive-cap-seconds']) * 1000,
    lambdaMemoryMb: megabytes(values['lambda-memory']),
    namespaceResyncOnly: values['namespace-resync-only'],
    fleet: values.fleet,
    ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
  }
}
