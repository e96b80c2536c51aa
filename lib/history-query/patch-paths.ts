/**
 * Stored patch paths point into the ENCODED object (docs/design.md#key-encoding):
 * `/data/nginx%2Econf`, and an array nested in an array sits under a `%5B%5D` key.
 * Users read and write paths of the object as served, so every path is decoded
 * before it is printed: segment by segment, re-escaped as RFC 6901 (`/` -> `~1`),
 * so `/metadata/labels/app.kubernetes.io~1name` is a valid pointer into the
 * decoded object.
 */
import { decodeKey, decodeKeys } from '../store/documents/key-encoding.js'

/** The wrapper key of an array nested directly in an array (key-encoding.ts). */
const NESTED_ARRAY_KEY = '%5B%5D'

const unescapeSegment = (s: string) => s.replaceAll('~1', '/').replaceAll('~0', '~')
const escapeSegment = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1')

/** RFC 6901 segments of a pointer ('' is the whole document: no segment). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(unescapeSegment)
}

/** The served-object pointer of a stored (encoded) one. */
export function decodePointer(pointer: string): string {
  const segments = pointerSegments(pointer)
    .filter((segment) => segment !== NESTED_ARRAY_KEY)
    .map((segment) => escapeSegment(decodeKey(segment)))
  return segments.map((s) => `/${s}`).join('')
}

function isNestedArrayWrapper(value: unknown): value is Record<string, unknown[]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return (
    keys.length === 1 &&
    keys[0] === NESTED_ARRAY_KEY &&
    Array.isArray(value[NESTED_ARRAY_KEY as never])
  )
}

/**
 * A stored patch value as served. A value that is itself an array nested in an
 * array (an op on `/x/0` of `[[1, 2]]`) is stored wrapped; decodeKeys unwraps
 * only wrappers found inside arrays, so the outermost one is unwrapped here.
 */
export function decodeValue(value: unknown): unknown {
  return isNestedArrayWrapper(value) ? decodeKeys(value[NESTED_ARRAY_KEY]) : decodeKeys(value)
}

/** The distinct decoded paths a patch touches, in patch order. */
export function changedPaths(patch: readonly { path: string }[]): string[] {
  return [...new Set(patch.map((op) => decodePointer(op.path)))]
}
