import type { RowResult } from './scenario.js'

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`)

/** The matrix as a Markdown table (what docs/resilience.md shows). */
export function formatTable(results: readonly RowResult[]): string {
  const header = [
    '#',
    'fault',
    'runs',
    'converged',
    'lost',
    'stale',
    'extra',
    'retries',
    'time to converge',
    'row time',
    'result',
  ]
  const lines = results.map((r) => [
    String(r.row),
    r.fault,
    String(r.runs),
    r.status === 'skip'
      ? 'skipped'
      : r.converged === null
        ? 'n/a (fatal)'
        : r.converged
          ? 'yes'
          : 'no',
    String(r.lost),
    String(r.stale),
    String(r.extra),
    String(r.retries),
    seconds(r.timeToConvergeMs),
    seconds(r.durationMs),
    r.status.toUpperCase(),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n')
}

export function formatDetails(results: readonly RowResult[]): string {
  const out: string[] = []
  for (const r of results) {
    for (const f of r.failures) out.push(`row ${r.row} FAIL: ${f}`)
    for (const n of r.notes) out.push(`row ${r.row}: ${n}`)
  }
  return out.join('\n')
}
