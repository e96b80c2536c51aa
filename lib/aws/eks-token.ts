import { createHash, createHmac, type BinaryLike } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types'
import { registerSecret } from '../redact.js'

/*
 * An EKS bearer token is a presigned STS GetCallerIdentity URL, base64url
 * encoded behind `k8s-aws-v1.`. The cluster name travels in the signed
 * `x-k8s-aws-id` header, so a token for one cluster is refused by another.
 * This is what `aws eks get-token` and aws-iam-authenticator produce; the exec
 * credential plugin that runs them does not exist in Lambda, hence this code.
 */

/** The presigned URL is valid for 60 s of signing skew; EKS honours a token 15 min. */
const PRESIGN_EXPIRES_S = 60
/** Refresh a minute before EKS would refuse the token (aws-cli reports 14 min). */
export const TOKEN_LIFETIME_MS = 14 * 60 * 1000

export interface EksToken {
  readonly token: string
  readonly expiresAt: Date
}

export interface EksTokenOptions {
  readonly clusterName: string
  readonly region: string
  /**
   * Who signs: the Lambda role, or for a cluster in another account the role
   * assumed for it (assumedRoleCredentials), whose access key the token carries.
   */
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider
  readonly now?: () => Date
}

/** node:crypto behind the smithy Checksum interface (SHA-256, HMAC when keyed). */
class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>

  constructor(secret?: SourceData) {
    this.#secret = secret
    this.#hash = this.#create()
  }

  #create() {
    return this.#secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBinary(this.#secret))
  }

  update(data: SourceData): void {
    this.#hash.update(toBinary(data))
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()))
  }

  reset(): void {
    this.#hash = this.#create()
  }
}

function toBinary(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}

export async function createEksToken(options: EksTokenOptions): Promise<EksToken> {
  const now = options.now?.() ?? new Date()
  const hostname = `sts.${options.region}.amazonaws.com`
  const credentials =
    typeof options.credentials === 'function' ? await options.credentials() : options.credentials
  const signer = new SignatureV4({
    credentials,
    region: options.region,
    service: 'sts',
    sha256: NodeSha256,
    uriEscapePath: true,
  })
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_S, signingDate: now },
  )
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') query.append(key, value)
  }
  const url = `https://${hostname}/?${query.toString()}`
  const token = `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`
  registerSecret(token)
  return { token, expiresAt: tokenExpiry(now, credentials.expiration) }
}

/**
 * A token signed with temporary credentials is refused once they expire, even
 * inside its own 15 minutes: it expires with them, so the provider re-signs
 * (with renewed credentials) in time.
 */
function tokenExpiry(now: Date, credentialsExpiration: Date | undefined): Date {
  const lifetimeEnd = now.getTime() + TOKEN_LIFETIME_MS
  const end = credentialsExpiration
    ? Math.min(lifetimeEnd, credentialsExpiration.getTime())
    : lifetimeEnd
  return new Date(end)
}

/** A token provider that reuses a token until a minute before it expires. */
export function eksTokenProvider(options: EksTokenOptions): () => Promise<string> {
  let current: EksToken | undefined
  let pending: Promise<EksToken> | undefined
  return async () => {
    const now = options.now?.() ?? new Date()
    if (current && current.expiresAt.getTime() - now.getTime() > 60_000) return current.token
    pending ??= createEksToken(options).finally(() => {
      pending = undefined
    })
    current = await pending
    return current.token
  }
}
