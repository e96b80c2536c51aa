/** A cluster as a task names it: its registry entry (lib/fleet/tasks.ts), or a bare name. */
function clusterName(cluster: unknown): string | undefined {
  if (typeof cluster === 'string') return cluster
  const name = (cluster as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

/**
 * A short name for a task body in drain's lines: `reconcile c1 apps/v1/deployments`,
 * `watch c1,c2`; any other body as its first characters.
 */
export function taskSummary(body: string): string {
  try {
    const task = JSON.parse(body) as Record<string, unknown>
    const cluster = clusterName(task.cluster)
    if (task.kind === 'reconcile' && cluster !== undefined)
      return `reconcile ${cluster} ${String(task.resource)}`
    if (task.kind === 'watch' && Array.isArray(task.clusters))
      return `watch ${task.clusters.map((c) => clusterName(c) ?? '?').join(',')}`
  } catch {
    // Not JSON: shown as it is.
  }
  const flat = body.replace(/\s+/g, ' ')
  return flat.length > 60 ? `${flat.slice(0, 60)}...` : flat
}
