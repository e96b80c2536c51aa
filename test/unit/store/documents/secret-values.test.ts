import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { redactText } from '../../../../lib/redact.js'
import {
  defaultSecretAnnotationAllowlist,
  type SecretMode,
  type SecretValuePolicy,
} from '../../../../lib/secret-policy.js'
import {
  hideSecretValues,
  isSecretKind,
  REDACTED,
} from '../../../../lib/store/documents/secret-values.js'

const plaintext = 'hunter2-very-secret'
const base64 = Buffer.from(plaintext).toString('base64')

const secret = () => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 's',
    namespace: 'default',
    uid: 'uid-1',
    resourceVersion: '7',
    labels: { app: 'web' },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        data: { password: base64 },
      }),
      'example.com/rendered-manifest': `password: ${plaintext}`,
      'kubernetes.io/service-account.name': 'builder',
      'meta.helm.sh/release-name': 'web',
    },
  },
  type: 'Opaque',
  data: { password: base64, '.dockerconfigjson': base64 },
  stringData: { token: plaintext },
})

const policy = (mode: SecretMode, hashKey?: string): SecretValuePolicy => ({
  mode,
  hashKey,
  annotationAllowlist: defaultSecretAnnotationAllowlist,
})

const hiddenAnnotations = {
  'kubectl.kubernetes.io/last-applied-configuration': REDACTED,
  'example.com/rendered-manifest': REDACTED,
  'kubernetes.io/service-account.name': 'builder',
  'meta.helm.sh/release-name': 'web',
}

describe('secret values', () => {
  it('keeps apiVersion, kind and metadata only in metadata mode, even when values were sent', () => {
    const hidden = hideSecretValues(secret(), policy('metadata'))
    expect(Object.keys(hidden)).toEqual(['apiVersion', 'kind', 'metadata'])
    expect(hidden.metadata).toEqual({ ...secret().metadata, annotations: hiddenAnnotations })
    expect(JSON.stringify(hidden)).not.toContain(plaintext)
    expect(JSON.stringify(hidden)).not.toContain(base64)
  })

  it('replaces every data and stringData value with <redacted> and keeps the keys in redacted mode', () => {
    const hidden = hideSecretValues(secret(), policy('redacted'))
    expect(hidden.data).toEqual({ password: REDACTED, '.dockerconfigjson': REDACTED })
    expect(hidden.stringData).toEqual({ token: REDACTED })
    expect(JSON.stringify(hidden)).not.toContain(plaintext)
    expect(JSON.stringify(hidden)).not.toContain(base64)
  })

  it('hides every annotation value outside the allowlist, keys kept, in every mode but plain', () => {
    for (const mode of ['metadata', 'redacted', 'hmac'] as const) {
      const hidden = hideSecretValues(secret(), policy(mode, 'a-hash-key-of-some-length'))
      expect(hidden.metadata.annotations).toEqual(hiddenAnnotations)
    }
  })

  it('keeps no annotation value when the allowlist is empty', () => {
    const hidden = hideSecretValues(secret(), { ...policy('redacted'), annotationAllowlist: [] })
    expect(Object.values(hidden.metadata.annotations)).toEqual([
      REDACTED,
      REDACTED,
      REDACTED,
      REDACTED,
    ])
  })

  it('stores an HMAC under the hash key in hmac mode, equal for equal values in data and stringData', () => {
    const key = 'a-hash-key-of-some-length'
    const hidden = hideSecretValues(secret(), policy('hmac', key))
    const expected = `hmac-sha256:${createHmac('sha256', key).update(plaintext).digest('hex')}`
    expect(hidden.data).toEqual({ password: expected, '.dockerconfigjson': expected })
    expect(hidden.stringData).toEqual({ token: expected })
  })

  it('keeps the object as served in plain mode', () => {
    const original = secret()
    expect(hideSecretValues(original, policy('plain'))).toBe(original)
  })

  it('leaves other fields and the input object alone', () => {
    const original = secret()
    const hidden = hideSecretValues(original, policy('redacted'))
    expect(hidden.type).toBe('Opaque')
    expect(original.data.password).toBe(base64)
    expect(original.metadata.annotations['example.com/rendered-manifest']).toContain(plaintext)
  })

  it('registers every value it saw with the redactor, as served and decoded', () => {
    const value = 'a-value-seen-only-in-this-test-91'
    const encoded = Buffer.from(value).toString('base64')
    expect(redactText(`echo ${value} and ${encoded}`)).toContain(value)
    hideSecretValues({ ...secret(), data: { key: encoded } }, policy('redacted'))
    expect(redactText(`echo ${value} and ${encoded}.`)).toBe('echo *** and ***.')
  })

  it('treats every kind named Secret as a Secret, whatever its group', () => {
    expect(isSecretKind('Secret')).toBe(true)
    expect(isSecretKind('ConfigMap')).toBe(false)
    expect(isSecretKind(undefined)).toBe(false)
  })
})
