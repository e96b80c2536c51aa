import jsonPatch from 'fast-json-patch'
import { describe, expect, it } from 'vitest'
import { changedPaths, decodePointer, decodeValue } from '../../../lib/history-query/patch-paths.js'
import { renderOpLine, renderOps, shortJson } from '../../../lib/history-query/patch-render.js'
import { encodeKeys } from '../../../lib/store/documents/key-encoding.js'

/** A stored patch: compare of the encoded versions, as the history writer makes it. */
const storedPatch = (before: object, after: object) =>
  jsonPatch.compare(encodeKeys(before), encodeKeys(after))

describe('decodePointer', () => {
  it('decodes each encoded key and keeps the pointer valid for the served object', () => {
    expect(decodePointer('/data/nginx%2Econf')).toBe('/data/nginx.conf')
    expect(decodePointer('/metadata/labels/app%2Ekubernetes%2Eio~1name')).toBe(
      '/metadata/labels/app.kubernetes.io~1name',
    )
    expect(decodePointer('/spec/%24ref')).toBe('/spec/$ref')
    expect(decodePointer('/data/100%25~0x')).toBe('/data/100%~0x')
  })

  it('drops the wrapper of an array nested in an array', () => {
    expect(decodePointer('/spec/matrix/1/%5B%5D/0')).toBe('/spec/matrix/1/0')
  })

  it('leaves a plain path and the whole-document pointer alone', () => {
    expect(decodePointer('/spec/template/spec/containers/0/image')).toBe(
      '/spec/template/spec/containers/0/image',
    )
    expect(decodePointer('')).toBe('')
  })
})

describe('decodeValue', () => {
  it('decodes keys inside a patch value and unwraps a nested array value', () => {
    expect(decodeValue({ 'a%2Eb': { '%24x': 1 } })).toEqual({ 'a.b': { $x: 1 } })
    expect(decodeValue({ '%5B%5D': [1, 2] })).toEqual([1, 2])
  })
})

describe('changedPaths', () => {
  it('lists the decoded paths a stored patch touches, once each', () => {
    const patch = storedPatch(
      { data: { 'nginx.conf': 'a', mode: 'x' } },
      { data: { 'nginx.conf': 'b' } },
    )
    expect(changedPaths(patch).sort()).toEqual(['/data/mode', '/data/nginx.conf'])
  })
})

describe('renderOps', () => {
  const before = {
    metadata: { labels: { 'app.kubernetes.io/name': 'web' } },
    spec: { replicas: 2, containers: [{ image: 'a:1' }, { image: 'b:1' }, { image: 'c:1' }] },
  }
  const after = {
    metadata: { labels: { 'app.kubernetes.io/name': 'shop', tier: 'front' } },
    spec: { replicas: 3, containers: [{ image: 'a:2' }] },
  }

  it('gives every op its old value, read from the previous version as the ops apply', () => {
    const ops = renderOps(storedPatch(before, after), encodeKeys(before))
    const byPath = Object.fromEntries(ops.map((op) => [op.path, op]))
    expect(byPath['/spec/replicas']).toMatchObject({ op: 'replace', old: 2, value: 3 })
    expect(byPath['/metadata/labels/app.kubernetes.io~1name']).toMatchObject({
      op: 'replace',
      old: 'web',
      value: 'shop',
    })
    expect(byPath['/metadata/labels/tier']).toEqual({
      op: 'add',
      path: '/metadata/labels/tier',
      value: 'front',
    })
    // Removed from the end first: each index is read before the removal shifts the others.
    expect(ops.filter((op) => op.op === 'remove')).toEqual([
      { op: 'remove', path: '/spec/containers/2', old: { image: 'c:1' } },
      { op: 'remove', path: '/spec/containers/1', old: { image: 'b:1' } },
    ])
    expect(byPath['/spec/containers/0/image']).toMatchObject({ old: 'a:1', value: 'a:2' })
  })

  it('renders values without old ones when the previous version is unknown', () => {
    const ops = renderOps(storedPatch(before, after))
    expect(ops.every((op) => !('old' in op))).toBe(true)
    expect(ops.map((op) => renderOpLine(op))).toContain('replace /spec/replicas: ? → 3')
  })

  it('stops deriving old values when the patch does not apply to the previous version (a gap)', () => {
    const patch = [
      { op: 'remove' as const, path: '/spec/gone' },
      { op: 'replace' as const, path: '/spec/replicas', value: 4 },
    ]
    const ops = renderOps(patch, { spec: { replicas: 1 } })
    expect(ops[1]).toEqual({ op: 'replace', path: '/spec/replicas', value: 4 })
  })
})

describe('renderOpLine', () => {
  it('writes each kind of op as people read a change', () => {
    expect(renderOpLine({ op: 'replace', path: '/spec/replicas', old: 2, value: 3 })).toBe(
      'replace /spec/replicas: 2 → 3',
    )
    expect(renderOpLine({ op: 'add', path: '/data/k', value: 'v' })).toBe('add /data/k: "v"')
    expect(renderOpLine({ op: 'remove', path: '/data/k', old: 'v' })).toBe(
      'remove /data/k (was "v")',
    )
    expect(renderOpLine({ op: 'remove', path: '/data/k' })).toBe('remove /data/k')
    expect(renderOpLine({ op: 'move', path: '/b', from: '/a' })).toBe('move /a → /b')
  })

  it('cuts a long value so one ConfigMap does not flood the terminal', () => {
    const line = renderOpLine({ op: 'add', path: '/data/big', value: 'x'.repeat(500) }, 40)
    expect(line.length).toBeLessThan(60)
    expect(line.endsWith('…')).toBe(true)
    expect(shortJson({ a: 1 })).toBe('{"a":1}')
  })
})
