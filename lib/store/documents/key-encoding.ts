/**
 * docs/design.md#key-encoding: MongoDB reads `.` in a key as a path and `$` at the
 * start as an operator; FerretDB and MongoDB before 5.0 reject both at any
 * depth. Every key inside a stored `object` that contains `.` or `%`, or starts
 * with `$`, is percent-encoded; every other key is left alone, so the common
 * case (`metadata`, `spec`, `containers`) is stored and queried as written.
 *
 * `%` is encoded too so that the mapping is injective: a served key that
 * already looks encoded (`a%2Eb`) comes back unchanged.
 *
 * Arrays directly inside arrays (`[[1, 2]]`, found in CRD payloads) are
 * refused by FerretDB 1.x ("nested arrays are not supported"). Each such inner
 * array is wrapped as `{"%5B%5D": [...]}`. The encoder never produces a key
 * `%5B%5D` (it only ever writes `%25`, `%2E` and `%24`), so the wrapper cannot
 * be confused with a served object, and decoding stays exact.
 */

const needsEncoding = (key: string): boolean =>
  key.includes('.') || key.includes('%') || key.startsWith('$')

export function encodeKey(key: string): string {
  if (!needsEncoding(key)) return key
  // `%` first, so the escapes added next are not themselves escaped.
  const escaped = key.replaceAll('%', '%25').replaceAll('.', '%2E')
  return escaped.startsWith('$') ? `%24${escaped.slice(1)}` : escaped
}

/**
 * One left-to-right pass: `%25` always stands for a literal `%` (so `%2524`
 * decodes to `%24`, never `$`), and `%24` can only appear at the start of an
 * encoded key, because a literal `%` elsewhere was itself escaped.
 */
export function decodeKey(key: string): string {
  if (!key.includes('%')) return key
  return key.replace(/%(25|2E|24)/g, (_m, hex: string) =>
    hex === '25' ? '%' : hex === '2E' ? '.' : '$',
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** The key of the object that stands for an array nested directly in an array. */
const NESTED_ARRAY_KEY = '%5B%5D'

// Copy on write: an array or object whose keys and values all come out
// unchanged is returned as it is, so the common object (few keys with a dot)
// costs a walk, not a deep copy. Where something changes, fromEntries defines
// properties (a `__proto__` key stays a key, not a prototype) and keeps
// insertion order, so JSON serialisation is unchanged. The input is never
// modified.
function encodeValue(value: unknown, insideArray: boolean): unknown {
  if (Array.isArray(value)) {
    let items: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const encoded = encodeValue(item, true)
      if (encoded !== item) (items ??= [...(value as unknown[])])[i] = encoded
    }
    const result = items ?? value
    return insideArray ? { [NESTED_ARRAY_KEY]: result } : result
  }
  if (!isPlainObject(value)) return value
  const keys = Object.keys(value)
  let entries: [string, unknown][] | undefined
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const item = value[key]
    const encodedKey = encodeKey(key)
    const encoded = encodeValue(item, false)
    if (!entries && (encodedKey !== key || encoded !== item))
      entries = keys.slice(0, i).map((k) => [k, value[k]])
    entries?.push([encodedKey, encoded])
  }
  return entries ? Object.fromEntries(entries) : value
}

function isNestedArrayWrapper(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === NESTED_ARRAY_KEY && Array.isArray(value[NESTED_ARRAY_KEY])
}

function decodeValue(value: unknown, insideArray: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, true))
  if (!isPlainObject(value)) return value
  if (insideArray && isNestedArrayWrapper(value)) return decodeValue(value[NESTED_ARRAY_KEY], false)
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [decodeKey(k), decodeValue(v, false)]),
  )
}

/** Encodes every key at every depth (arrays recursed) and wraps arrays nested in arrays. */
export function encodeKeys<T>(value: T): T {
  return encodeValue(value, false) as T
}

/** The exact inverse of encodeKeys: `decodeKeys(encodeKeys(x))` deep-equals `x`. */
export function decodeKeys<T>(value: T): T {
  return decodeValue(value, false) as T
}
