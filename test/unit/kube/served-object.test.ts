import { describe, expect, it } from 'vitest'
import { checkServedObject, MAX_IDENTITY_CHARS } from '../../../lib/kube/served-object.js'

const object = (metadata: Record<string, unknown>) => ({ kind: 'ConfigMap', metadata })
const good = { uid: 'u-1', name: 'a', namespace: 'ns', resourceVersion: '7' }

describe('checkServedObject', () => {
  it('takes an object with non-empty string uid, name and resourceVersion as served', () => {
    const served = object(good)
    expect(checkServedObject(served)).toEqual({ object: served })
    expect(checkServedObject(object({ ...good, namespace: undefined }))).toHaveProperty('object')
  })

  it('refuses an operator in place of a uid, name or resourceVersion, naming each field', () => {
    const { refused } = checkServedObject(
      object({ uid: { $gt: '' }, name: { $ne: null }, resourceVersion: { $gt: '' } }),
    )
    expect(refused?.reason).toBe(
      'metadata.uid missing or not a non-empty string; ' +
        'metadata.name missing or not a non-empty string; ' +
        'metadata.resourceVersion missing or not a non-empty string',
    )
    // Nothing of the operator is kept: the dead letter has only strings.
    expect(refused).not.toHaveProperty('uid')
    expect(refused).not.toHaveProperty('name')
    expect(refused?.key).toMatch(/^invalid:[0-9a-f]{32}$/)
  })

  it('refuses empty strings, numbers and a missing field', () => {
    for (const metadata of [
      { ...good, uid: '' },
      { ...good, name: 7 },
      { ...good, resourceVersion: undefined },
      { ...good, namespace: ['ns'] },
      { ...good, namespace: '' },
    ]) {
      expect(checkServedObject(object(metadata)).refused?.reason).toMatch(/^metadata\.\w+ missing/)
    }
  })

  it('refuses identities longer than the cap', () => {
    const long = 'x'.repeat(MAX_IDENTITY_CHARS + 1)
    expect(checkServedObject(object({ ...good, name: long })).refused?.reason).toBe(
      `metadata.name longer than ${MAX_IDENTITY_CHARS} characters`,
    )
  })

  it('refuses what is not an object, or has no metadata object', () => {
    expect(checkServedObject(null).refused?.reason).toBe('not a JSON object')
    expect(checkServedObject([good]).refused?.reason).toBe('not a JSON object')
    expect(checkServedObject({ metadata: 'x' }).refused?.reason).toBe(
      'metadata missing or not an object',
    )
  })

  it('keys a refusal by its usable uid, else by the content, the same every time', () => {
    const badName = object({ ...good, name: '' })
    expect(checkServedObject(badName).refused).toMatchObject({
      key: 'u-1',
      uid: 'u-1',
      namespace: 'ns',
      resourceVersion: '7',
    })
    const noUid = object({ ...good, uid: null })
    expect(checkServedObject(noUid).refused?.key).toBe(checkServedObject(noUid).refused?.key)
    expect(checkServedObject(noUid).refused?.key).not.toBe(
      checkServedObject(object({ ...good, uid: null, name: 'b' })).refused?.key,
    )
  })
})
