import { randomBytes, randomUUID } from 'node:crypto'
import type { Context } from 'aws-lambda'

export interface FunctionIdentity {
  functionName: string
  region: string
  /** The account in ARNs: the queue's own (moto: 123456789012), so ARNs read consistently. */
  account: string
  memoryLimitInMB: number
  timeoutSeconds: number
}

/**
 * A context as the Lambda Node.js runtime builds it for one invocation: a fresh request
 * id, `$LATEST`, the log group and a stream named like Lambda's, and a deadline that
 * counts down from the function's timeout from the moment the invocation starts.
 */
export function lambdaContext(fn: FunctionIdentity, startedAt = Date.now()): Context {
  const deadline = startedAt + fn.timeoutSeconds * 1000
  const day = new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/')
  return {
    awsRequestId: randomUUID(),
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${fn.region}:${fn.account}:function:${fn.functionName}`,
    memoryLimitInMB: String(fn.memoryLimitInMB),
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}
