import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  hideSecretValues,
  isCoreSecret,
  REDACTED,
} from '../../../../lib/store/documents/secret-values.js'

const plaintext = 'hunter2-very-secret'
const base64 = Buffer.from(plaintext).toString('base64')

const secret = () => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 's',
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        data: { password: base64 },
      }),
      team: 'a',
    },
  },
  type: 'Opaque',
  data: { password: base64, '.dockerconfigjson': base64 },
  stringData: { token: plaintext },
})

describe('secret values', () => {
  it('replaces every data and stringData value with <redacted> and keeps the keys', () => {
    const hidden = hideSecretValues(secret(), { syncData: false, hashKey: undefined })
    expect(hidden.data).toEqual({ password: REDACTED, '.dockerconfigjson': REDACTED })
    expect(hidden.stringData).toEqual({ token: REDACTED })
    expect(JSON.stringify(hidden)).not.toContain(plaintext)
    expect(JSON.stringify(hidden)).not.toContain(base64)
  })

  it('hides the last-applied annotation, which kubectl fills with the whole manifest', () => {
    const hidden = hideSecretValues(secret(), { syncData: false, hashKey: undefined })
    expect(hidden.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': REDACTED,
      team: 'a',
    })
  })

  it('stores an HMAC under the hash key, equal for equal values in data and stringData', () => {
    const key = 'a-hash-key-of-some-length'
    const hidden = hideSecretValues(secret(), { syncData: false, hashKey: key })
    const expected = `hmac-sha256:${createHmac('sha256', key).update(plaintext).digest('hex')}`
    expect(hidden.data).toEqual({ password: expected, '.dockerconfigjson': expected })
    expect(hidden.stringData).toEqual({ token: expected })
  })

  it('keeps the values when SYNC_SECRET_DATA=true', () => {
    const original = secret()
    expect(hideSecretValues(original, { syncData: true, hashKey: 'k' })).toBe(original)
  })

  it('leaves other fields and the input object alone', () => {
    const original = secret()
    const hidden = hideSecretValues(original, { syncData: false, hashKey: undefined })
    expect(hidden.type).toBe('Opaque')
    expect(original.data.password).toBe(base64)
  })

  it('treats only v1 Secret as a Secret', () => {
    expect(isCoreSecret('v1', 'Secret')).toBe(true)
    expect(isCoreSecret('example.com/v1', 'Secret')).toBe(false)
    expect(isCoreSecret('v1', 'ConfigMap')).toBe(false)
  })
})
