import type { ClusterSource } from '../kube/cluster-source.js'

/**
 * A cluster limited to some namespaces by its registry entry: the reconcile
 * lists only those (the run passes them as its namespaces), and its watch
 * windows drop events of other namespaces here, so neither ever stores an
 * object outside the scope. Bookmarks and cluster-scoped objects pass.
 */
export function scopedSource(
  source: ClusterSource,
  namespaces: readonly string[] | undefined,
): ClusterSource {
  if (!namespaces) return source
  const inScope = new Set(namespaces)
  return {
    ...source,
    watch: (resolved, options) => {
      const events = source.watch(resolved, options)
      if (!resolved.namespaced) return events
      return (async function* () {
        for (;;) {
          const next = await events.next()
          if (next.done) return next.value
          const ns = next.value.object.metadata?.namespace
          if (next.value.type === 'BOOKMARK' || ns === undefined || inScope.has(ns))
            yield next.value
        }
      })()
    },
  }
}
