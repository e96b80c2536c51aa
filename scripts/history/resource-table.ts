/** `--as-of` without `--name`: every object of the resource that existed then. */
import type { ResourceState } from '../../lib/history-query/resource-state.js'
import { table } from './table.js'

export function resourceStateLines(label: string, at: Date, state: ResourceState): string[] {
  const { rows } = state
  const header = `${label} as of ${at.toISOString()}: ${rows.length} object${rows.length === 1 ? '' : 's'}`
  if (rows.length === 0) return [header]
  return [
    header,
    ...table([
      ['NAMESPACE', 'NAME', 'RESOURCEVERSION', 'OBSERVED-AT', 'RECORDED'],
      ...rows.map((r) => [
        r.namespace ?? '-',
        r.name,
        r.resourceVersion,
        r.observedAt.toISOString(),
        r.complete ? r.type : `${r.type} (incomplete)`,
      ]),
    ]),
  ]
}
