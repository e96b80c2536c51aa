import type {
  KubeObject,
  ListPage,
  RefusedObject,
  ResolvedResource,
  WatchEvent,
} from '../../../lib/kube/types.js'
import { loadConfig } from '../../../lib/config.js'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import type { ClusterSource, ListOptions, WatchOptions } from '../../../lib/kube/cluster-source.js'
import type { WatchWindowResult } from '../../../lib/kube/watcher.js'

export const resolvedConfigMaps: ResolvedResource = {
  ref: parseResourceRef('v1/configmaps')!,
  kind: 'ConfigMap',
  namespaced: true,
  apiVersion: 'v1',
}

/** The mass-delete guard as configured by default (MASS_DELETE_MAX_FRACTION, MASS_DELETE_MIN_STORED). */
export const defaultMassDelete = loadConfig({}).massDelete

export const cm = (uid: string, rv: string, namespace = 'ns'): KubeObject => ({
  metadata: { uid, name: uid, namespace, resourceVersion: rv },
})
export type PageScript = Array<(Partial<ListPage> & { items: KubeObject[] }) | Error>
/** A watch event, or one the edge refused (handed to the watch's onRefused, as watch-stream.ts does). */
export type WindowEvent = WatchEvent | { readonly refused: RefusedObject }

/** A source that serves scripted pages, and scripted watch windows. */
export class FakeSource implements ClusterSource {
  constructor(
    public pages: PageScript = [],
    public windows: Array<{ events: WindowEvent[]; result: Partial<WatchWindowResult> }> = [],
  ) {}
  watchedFrom: string[] = []

  resolve() {
    return Promise.resolve(resolvedConfigMaps)
  }

  async *listPages(_r: ResolvedResource, options: ListOptions): AsyncIterable<ListPage> {
    let n = 0
    for (const p of this.pages) {
      await Promise.resolve()
      if (options.signal.aborted) throw options.signal.reason
      if (p instanceof Error) throw p
      n++
      yield { page: n, listResourceVersion: '100', consistent: true, restarted: false, ...p }
    }
  }

  async *watch(
    _r: ResolvedResource,
    options: WatchOptions,
  ): AsyncGenerator<WatchEvent, WatchWindowResult> {
    this.watchedFrom.push(options.fromResourceVersion)
    const w = this.windows.shift() ?? { events: [], result: {} }
    let last = options.fromResourceVersion
    let events = 0
    for (const e of w.events) {
      await Promise.resolve()
      if ('refused' in e) {
        options.onRefused?.(e.refused)
        continue
      }
      events++
      last = e.object.metadata.resourceVersion
      yield e
    }
    return {
      outcome: 'window-ended',
      events,
      bookmarks: 0,
      reconnects: 0,
      resourceVersion: last,
      ...w.result,
    }
  }
}
