import { describe, expect, it } from 'vitest'
import { scopedSource } from '../../../lib/fleet/scoped-source.js'
import type { ClusterSource, WatchOptions } from '../../../lib/kube/cluster-source.js'
import type { WatchEvent } from '../../../lib/kube/types.js'
import type { WatchWindowResult } from '../../../lib/kube/watcher.js'
import { configMap, configMaps, resolvedOf } from '../kube/fakes/resources.js'

/** A source whose watch yields these events, then ends the window with `result`. */
function sourceOf(events: WatchEvent[], result: WatchWindowResult): ClusterSource {
  return {
    resolve: () => Promise.reject(new Error('unused')),
    listPages: () => {
      throw new Error('unused')
    },
    watch: async function* () {
      for (const event of events) yield await Promise.resolve(event)
      return result
    },
  }
}

async function drain(source: ClusterSource, namespaced = true) {
  const resolved = namespaced ? configMaps : resolvedOf('v1/nodes', 'Node', false)
  const window = source.watch(resolved, {} as WatchOptions)
  const seen: string[] = []
  for (;;) {
    const next = await window.next()
    if (next.done) return { seen, result: next.value }
    seen.push(
      `${next.value.type} ${next.value.object.metadata.namespace ?? '-'}/${next.value.object.metadata.name}`,
    )
  }
}

const result = { reason: 'window-ended' } as unknown as WatchWindowResult

describe('a cluster limited to some namespaces by its registry entry', () => {
  it('drops watch events of other namespaces, and passes bookmarks and the window result', async () => {
    const source = scopedSource(
      sourceOf(
        [
          { type: 'ADDED', object: configMap('a', 'shop', '1') },
          { type: 'MODIFIED', object: configMap('b', 'other', '2') },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } as never },
          { type: 'DELETED', object: configMap('c', 'shop', '4') },
        ],
        result,
      ),
      ['shop'],
    )
    const out = await drain(source)
    expect(out.seen).toEqual(['ADDED shop/a', 'BOOKMARK -/undefined', 'DELETED shop/c'])
    expect(out.result).toBe(result)
  })

  it('leaves a cluster-scoped resource, and a cluster without namespaces, as they are', async () => {
    const node = {
      type: 'ADDED' as const,
      object: { metadata: { name: 'n1', uid: 'u', resourceVersion: '1' } },
    }
    expect((await drain(scopedSource(sourceOf([node], result), ['shop']), false)).seen).toEqual([
      'ADDED -/n1',
    ])
    const inner = sourceOf([], result)
    expect(scopedSource(inner, undefined)).toBe(inner)
  })
})
