import jsonPatch from 'fast-json-patch'
import { describe, expect, it } from 'vitest'
import type { HistoryVersion } from '../../../lib/history-query/types.js'
import { encodeKeys } from '../../../lib/store/documents/key-encoding.js'
import { timelineEntries, timelineLines } from '../../../scripts/history/timeline.js'

const key = { cluster: 'c', resource: 'v1/configmaps', namespace: 'shop', name: 'settings' }

function version(
  rv: string,
  minute: number,
  data: Record<string, string>,
  previous: HistoryVersion | undefined,
  extra: Partial<HistoryVersion> = {},
): HistoryVersion {
  const object = encodeKeys({ metadata: { name: 'settings', resourceVersion: rv }, data })
  return {
    _id: `c/u1/${rv}`,
    cluster: 'c',
    resource: 'v1/configmaps',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: 'shop',
    name: 'settings',
    uid: 'u1',
    resourceVersion: rv,
    type: previous ? 'MODIFIED' : 'ADDED',
    observedAt: new Date(Date.UTC(2026, 10, 28, 10, minute)),
    source: 'watch',
    complete: true,
    object,
    patch: previous ? jsonPatch.compare(previous.object, object) : [],
    ...extra,
  }
}

describe('the printed timeline', () => {
  it('says why a version has no changed paths', () => {
    const first = version('1', 0, { a: '1' }, undefined, { complete: false, source: 'reconcile' })
    const same = version('2', 1, { a: '1' }, first)
    const gap = { ...version('3', 2, { a: '2' }, same), complete: false, patch: [] }
    const gone = { ...version('4', 3, { a: '2' }, gap), type: 'DELETED' as const }
    const notes = timelineEntries([first, same, gap, gone]).map((e) => e.note)
    expect(notes).toEqual([
      '(first recorded version; it existed before, unrecorded)',
      '(no change in the stored fields)',
      '(no patch: versions before this one were not recorded)',
      '(deleted: the last state is kept)',
    ])
  })

  it('prints decoded paths and leaves metadata.resourceVersion to its own column', () => {
    const first = version('1', 0, { 'nginx.conf': 'a' }, undefined)
    const second = version('2', 5, { 'nginx.conf': 'b' }, first)
    const lines = timelineLines(key, timelineEntries([first, second]), true)
    expect(lines).toEqual([
      'v1/configmaps shop/settings in cluster c: 2 versions (uid u1)',
      '2026-11-28T10:00:00.000Z  rv 1  ADDED     watch  complete  (first recorded version)',
      '2026-11-28T10:05:00.000Z  rv 2  MODIFIED  watch  complete  /data/nginx.conf',
      '    replace /data/nginx.conf: "a" → "b"',
    ])
  })

  it('derives the first old value in a --since window from the version before it', () => {
    const first = version('1', 0, { k: 'old' }, undefined)
    const second = version('2', 5, { k: 'new' }, first)
    expect(timelineEntries([second], first)[0]!.ops).toContainEqual({
      op: 'replace',
      path: '/data/k',
      old: 'old',
      value: 'new',
    })
    expect(timelineEntries([second])[0]!.ops).toContainEqual({
      op: 'replace',
      path: '/data/k',
      value: 'new',
    })
  })
})
