import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeKey,
  decodeKeys,
  encodeKey,
  encodeKeys,
} from '../../../../lib/store/documents/key-encoding.js'

/** Keys built from the characters that matter, plus unicode and ordinary text. */
const hostileKey = fc.oneof(
  fc.string({
    unit: fc.constantFrom('.', '$', '%', '2', 'E', '4', '5', 'a', '/', 'é', '🙂', '\u0000', ' '),
  }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    'app.kubernetes.io/name',
    'nginx.conf',
    '.dockerconfigjson',
    '$ref',
    '%2E',
    '%24x',
    '$',
    '.',
    '%',
    '__proto__',
    'constructor',
    '0',
    '12',
  ),
)

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    ),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc
    .array(fc.tuple(hostileKey, tie('value')), { maxLength: 5 })
    .map((entries) => Object.fromEntries(entries)),
})).value

function keysOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, out))
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      keysOf(v, out)
    }
  }
  return out
}

describe('key encoding', () => {
  it('round-trips any nested value exactly, key order included', () => {
    fc.assert(
      fc.property(json, (value) => {
        const back = decodeKeys(encodeKeys(value))
        // node's deep-equality, not vitest's: toStrictEqual reads an own `constructor` key as the class.
        expect(isDeepStrictEqual(back, value)).toBe(true)
        expect(JSON.stringify(back)).toBe(JSON.stringify(value))
      }),
      { numRuns: 2000 },
    )
  })

  it('leaves no key with a dot or a leading dollar after encoding', () => {
    fc.assert(
      fc.property(json, (value) => {
        for (const key of keysOf(encodeKeys(value))) {
          expect(key.includes('.')).toBe(false)
          expect(key.startsWith('$')).toBe(false)
        }
      }),
    )
  })

  it('is injective on keys: two different keys never encode alike', () => {
    fc.assert(
      fc.property(hostileKey, hostileKey, (a, b) => {
        if (a !== b) expect(encodeKey(a)).not.toBe(encodeKey(b))
        expect(decodeKey(encodeKey(a))).toBe(a)
      }),
      { numRuns: 5000 },
    )
  })

  it('leaves no array directly inside an array (FerretDB refuses them)', () => {
    const hasNestedArray = (v: unknown, inArray = false): boolean =>
      Array.isArray(v)
        ? inArray || v.some((item) => hasNestedArray(item, true))
        : v !== null &&
          typeof v === 'object' &&
          Object.values(v).some((item) => hasNestedArray(item))
    fc.assert(
      fc.property(json, (value) => {
        expect(hasNestedArray(encodeKeys(value))).toBe(false)
      }),
    )
    expect(encodeKeys({ m: [[1, [2]], 3] })).toEqual({
      m: [{ '%5B%5D': [1, { '%5B%5D': [2] }] }, 3],
    })
  })

  it('never mistakes a served object for a wrapped array', () => {
    const served = { list: [{ '%5B%5D': [1] }] }
    expect(encodeKeys(served)).toEqual({ list: [{ '%255B%255D': [1] }] })
    expect(decodeKeys(encodeKeys(served))).toEqual(served)
  })

  it('leaves ordinary keys untouched', () => {
    fc.assert(
      fc.property(
        fc.string().filter((k) => !k.includes('.') && !k.includes('%') && !k.startsWith('$')),
        (key) => {
          expect(encodeKey(key)).toBe(key)
        },
      ),
    )
  })

  it('encodes exactly as docs/design.md#key-encoding says', () => {
    expect(encodeKey('app.kubernetes.io/name')).toBe('app%2Ekubernetes%2Eio/name')
    expect(encodeKey('.dockerconfigjson')).toBe('%2Edockerconfigjson')
    expect(encodeKey('$ref')).toBe('%24ref')
    expect(encodeKey('a$b')).toBe('a$b')
    expect(encodeKey('100%')).toBe('100%25')
    expect(encodeKey('%2E')).toBe('%252E')
    expect(encodeKey('$.%')).toBe('%24%2E%25')
  })

  it('keeps a __proto__ key as a key, not a prototype', () => {
    const value = JSON.parse('{"__proto__": {"a.b": 1}}') as Record<string, unknown>
    const encoded = encodeKeys(value)
    expect(Object.getPrototypeOf(encoded)).toBe(Object.prototype)
    expect(Object.keys(encoded)).toEqual(['__proto__'])
    expect(decodeKeys(encoded)).toStrictEqual(value)
  })

  it('shares every part that needs no encoding instead of copying it', () => {
    const spec = { containers: [{ name: 'app', ports: [{ containerPort: 80 }] }] }
    const labels = { 'app.kubernetes.io/name': 'x' }
    const input = { metadata: { name: 'a', labels }, spec }
    const encoded = encodeKeys(input) as unknown as {
      metadata: { labels: unknown }
      spec: unknown
    }
    expect(encoded.spec).toBe(spec)
    expect(encoded.metadata.labels).not.toBe(labels)
    expect(encodeKeys(spec)).toBe(spec)
  })

  it('does not change the input, whatever it holds', () => {
    fc.assert(
      fc.property(json, (value) => {
        const before = structuredClone(value)
        encodeKeys(value)
        expect(isDeepStrictEqual(value, before)).toBe(true)
      }),
    )
  })

  it('does not change the input', () => {
    const input = { metadata: { labels: { 'app.kubernetes.io/name': 'x' } } }
    encodeKeys(input)
    expect(input).toEqual({ metadata: { labels: { 'app.kubernetes.io/name': 'x' } } })
  })
})
