import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { QueueDepth } from './types.js'

export interface QueueFacts {
  url: string
  arn: string
  account: string
  /** From the queue's redrive policy, when it has one: the queue, not drain, moves messages there. */
  dlqUrl?: string
  maxReceiveCount?: number
}

async function attributes(sqs: SQSClient, url: string, names: QueueAttributeName[]) {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
  )
  return answer.Attributes ?? {}
}

/** The queue's ARN (the records' eventSourceARN) and its dead-letter queue. */
export async function describeQueue(sqs: SQSClient, url: string): Promise<QueueFacts> {
  const found = await attributes(sqs, url, ['QueueArn', 'RedrivePolicy']).catch(
    (error: unknown) => {
      throw new Error(`cannot read the attributes of queue ${url}`, { cause: error })
    },
  )
  const arn = found.QueueArn
  if (!arn) throw new Error(`queue ${url} has no QueueArn attribute`)
  const account = arn.split(':')[4] ?? '000000000000'
  if (!found.RedrivePolicy) return { url, arn, account }
  const policy = JSON.parse(found.RedrivePolicy) as {
    deadLetterTargetArn: string
    maxReceiveCount: number | string
  }
  const [, , , , dlqAccount, dlqName] = policy.deadLetterTargetArn.split(':')
  const dlq = await sqs.send(
    new GetQueueUrlCommand({ QueueName: dlqName, QueueOwnerAWSAccountId: dlqAccount }),
  )
  return {
    url,
    arn,
    account,
    ...(dlq.QueueUrl && { dlqUrl: dlq.QueueUrl }),
    maxReceiveCount: Number(policy.maxReceiveCount),
  }
}

export async function queueDepth(sqs: SQSClient, url: string): Promise<QueueDepth> {
  const found = await attributes(sqs, url, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ])
  return {
    visible: Number(found.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(found.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(found.ApproximateNumberOfMessagesDelayed ?? 0),
  }
}

export const isEmpty = (depth: QueueDepth) =>
  depth.visible === 0 && depth.inFlight === 0 && depth.delayed === 0
