import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { SyncError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { refreshingValue } from './refreshing-value.js'

/** Temporary credentials are renewed this long before they expire. */
export const ASSUMED_ROLE_REFRESH_BEFORE_MS = 5 * 60 * 1000

/** STS RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`. */
const SESSION_NAME_MAX = 64
const SESSION_NAME_PREFIX = 'kube-mongo-sync-'

/**
 * The session name a cluster's role is assumed under: it is what the other
 * account's CloudTrail shows, so it names the cluster. Characters STS refuses
 * become `-`, and the whole is cut to STS's 64 characters.
 */
export function stsSessionName(cluster: string): string {
  const name = `${SESSION_NAME_PREFIX}${cluster}`.replace(/[^\w+=,.@-]/g, '-')
  return name.slice(0, SESSION_NAME_MAX)
}

export interface AssumedRoleOptions {
  readonly roleArn: string
  /** The role's trust policy condition `sts:ExternalId`, when it has one. */
  readonly externalId?: string
  /** Where STS is called (its regional endpoint). */
  readonly region: string
  readonly sessionName: string
  /** Who assumes the role; the default chain (the Lambda role) when absent. */
  readonly baseCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
  /** The cluster the role is for, named in errors. */
  readonly cluster?: string
  /** Session length; the role's maximum must allow it. STS's default is one hour. */
  readonly durationSeconds?: number
  readonly now?: () => number
}

/**
 * Credentials of a role in another account (STS AssumeRole), fetched on first
 * use, reused, and renewed five minutes before they expire. An error names the
 * role and the cluster; the credentials themselves never appear in one.
 */
export function assumedRoleCredentials(options: AssumedRoleOptions): AwsCredentialIdentityProvider {
  const client = new STSClient({
    region: options.region,
    ...(options.baseCredentials ? { credentials: options.baseCredentials } : {}),
  })
  const load = async () => {
    const credentials = await assumeRole(client, options)
    return { value: credentials, expiresAt: credentials.expiration?.getTime() ?? Infinity }
  }
  return refreshingValue(load, {
    refreshBeforeMs: ASSUMED_ROLE_REFRESH_BEFORE_MS,
    what: `sts:AssumeRole ${options.roleArn}`,
    now: options.now,
  })
}

async function assumeRole(
  client: STSClient,
  options: AssumedRoleOptions,
): Promise<AwsCredentialIdentity> {
  const forCluster = options.cluster ? ` for cluster ${options.cluster}` : ''
  const failure = (reason: string, cause?: unknown) =>
    new SyncError(`sts:AssumeRole ${options.roleArn}${forCluster} failed: ${reason}`, {
      context: { operation: 'sts:AssumeRole' },
      cause,
    })
  let response
  try {
    response = await client.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName,
        ExternalId: options.externalId,
        DurationSeconds: options.durationSeconds,
      }),
    )
  } catch (error) {
    throw failure((error as Error).message, error)
  }
  const c = response.Credentials
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw failure('the response has no credentials')
  }
  registerSecret(c.SecretAccessKey)
  registerSecret(c.SessionToken)
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  }
}
