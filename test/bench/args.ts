import { parseArgs } from 'node:util'

export interface BenchArgs {
  readonly objects: number
  readonly json: boolean
  readonly scale: boolean
  readonly scaleSizes: readonly number[]
  readonly watchEvents: number
  readonly watchPerSecond: number
  readonly cpuProfileDir?: string
  readonly naiveCapMs: number
}

export const usage =
  'usage: npm run bench -- [--objects N] [--json] [--scale [--sizes 5000,20000,100000]] [--watch-events 1000] [--watch-rate 100] [--cpu-prof DIR] [--naive-cap-seconds 120]'

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
    ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
  }
}
