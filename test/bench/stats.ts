/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export const perThousand = (ms: number, objects: number): number =>
  Math.round((ms / objects) * 1000 * 10) / 10

/** The median of `values` (the nearest-rank 50th percentile). */
export const median = (values: readonly number[]): number => percentile(values, 50)

/** a / b to two decimals (b below 1 counts as 1). */
export const ratio = (a: number, b: number): number => Math.round((a / Math.max(1, b)) * 100) / 100
