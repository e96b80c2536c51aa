import { describe, expect, it } from 'vitest'
import { createEksToken, eksTokenProvider, TOKEN_LIFETIME_MS } from '../../../lib/aws/eks-token.js'

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const fixed = new Date('2026-11-28T12:00:00Z')

function decode(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true)
  const body = token.slice('k8s-aws-v1.'.length)
  expect(body).toMatch(/^[A-Za-z0-9_-]+$/) // base64url, no padding
  return new URL(Buffer.from(body, 'base64url').toString())
}

describe('createEksToken', () => {
  it('is a presigned STS GetCallerIdentity URL bound to the cluster name', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'prod-eu',
      region: 'eu-west-1',
      credentials,
      now: () => fixed,
    })
    const url = decode(token)
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com')
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity')
    expect(url.searchParams.get('Version')).toBe('2011-06-15')
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256')
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request',
    )
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261128T120000Z')
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60')
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id')
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    expect(expiresAt.getTime() - fixed.getTime()).toBe(TOKEN_LIFETIME_MS)
  })

  it('is deterministic for a fixed clock and credentials, and differs per cluster', async () => {
    const a = await createEksToken({
      clusterName: 'a',
      region: 'us-east-1',
      credentials,
      now: () => fixed,
    })
    const a2 = await createEksToken({
      clusterName: 'a',
      region: 'us-east-1',
      credentials,
      now: () => fixed,
    })
    const b = await createEksToken({
      clusterName: 'b',
      region: 'us-east-1',
      credentials,
      now: () => fixed,
    })
    expect(a.token).toBe(a2.token)
    expect(decode(a.token).searchParams.get('X-Amz-Signature')).not.toBe(
      decode(b.token).searchParams.get('X-Amz-Signature'),
    )
  })

  it('carries the session token of temporary credentials (the Lambda role)', async () => {
    const { token } = await createEksToken({
      clusterName: 'a',
      region: 'us-east-1',
      credentials: { ...credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE' },
      now: () => fixed,
    })
    expect(decode(token).searchParams.get('X-Amz-Security-Token')).toBe('FwoGZXIvYXdzEXAMPLE')
  })
})

describe('eksTokenProvider', () => {
  it('reuses a token until a minute before it expires, then refreshes it', async () => {
    let now = fixed
    const provider = eksTokenProvider({
      clusterName: 'a',
      region: 'us-east-1',
      credentials,
      now: () => now,
    })
    const first = await provider()
    now = new Date(fixed.getTime() + 12 * 60 * 1000)
    expect(await provider()).toBe(first)
    now = new Date(fixed.getTime() + 13 * 60 * 1000 + 1)
    expect(await provider()).not.toBe(first)
  })
})
