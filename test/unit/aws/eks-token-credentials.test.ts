import { describe, expect, it } from 'vitest'
import { createEksToken, eksTokenProvider, TOKEN_LIFETIME_MS } from '../../../lib/aws/eks-token.js'

const fixed = new Date('2026-11-28T12:00:00Z')
const minutes = (n: number) => n * 60 * 1000

function credentialOf(token: string): string | null {
  const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString())
  return url.searchParams.get('X-Amz-Credential')
}

describe('an EKS token signed with temporary (assumed role) credentials', () => {
  it('is signed with the access key the credential provider returns', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod-eu',
      region: 'eu-west-1',
      credentials: () =>
        Promise.resolve({
          accessKeyId: 'ASIAASSUMEDROLE',
          secretAccessKey: 'assumed-secret-key-0123456789',
          sessionToken: 'assumed-session-token',
        }),
      now: () => fixed,
    })
    expect(credentialOf(token)).toBe('ASIAASSUMEDROLE/20261128/eu-west-1/sts/aws4_request')
  })

  it('expires with the credentials when they expire before the token would', async () => {
    const expiration = new Date(fixed.getTime() + minutes(3))
    const { expiresAt } = await createEksToken({
      clusterName: 'a',
      region: 'us-east-1',
      credentials: { accessKeyId: 'ASIAA', secretAccessKey: 's', sessionToken: 't', expiration },
      now: () => fixed,
    })
    expect(expiresAt).toEqual(expiration)
  })

  it('keeps its own lifetime when the credentials outlive it', async () => {
    const expiration = new Date(fixed.getTime() + minutes(60))
    const { expiresAt } = await createEksToken({
      clusterName: 'a',
      region: 'us-east-1',
      credentials: { accessKeyId: 'ASIAA', secretAccessKey: 's', sessionToken: 't', expiration },
      now: () => fixed,
    })
    expect(expiresAt.getTime() - fixed.getTime()).toBe(TOKEN_LIFETIME_MS)
  })

  it('is re-signed with renewed credentials before the old ones expire', async () => {
    let now = fixed
    let key = 1
    const provider = eksTokenProvider({
      clusterName: 'a',
      region: 'us-east-1',
      // Each call hands out the credentials current at that time: key N expires 6 minutes after issue.
      credentials: () =>
        Promise.resolve({
          accessKeyId: `ASIAKEY${key}`,
          secretAccessKey: 's',
          sessionToken: 't',
          expiration: new Date(now.getTime() + minutes(6)),
        }),
      now: () => now,
    })
    const first = await provider()
    expect(credentialOf(first)).toMatch(/^ASIAKEY1\//)
    now = new Date(fixed.getTime() + minutes(4))
    expect(await provider()).toBe(first)
    key = 2
    now = new Date(fixed.getTime() + minutes(5) + 1)
    expect(credentialOf(await provider())).toMatch(/^ASIAKEY2\//)
  })
})
