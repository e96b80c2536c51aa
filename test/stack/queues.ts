import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs'

// The fleet's work queues on the stack's moto (docs/design.md and issue 18's fleet contract): a
// reconcile queue and a watch queue, each redriving to its own dead-letter queue.

export interface WorkQueue {
  url: string
  arn: string
  dlqUrl: string
  dlqArn: string
}

export interface WorkQueues {
  reconcile: WorkQueue
  watch: WorkQueue
}

export interface WorkQueueOptions {
  /** Queue names are `<prefix>-reconcile`, `<prefix>-reconcile-dlq`, `<prefix>-watch`, ... */
  prefix: string
  visibilityTimeoutSeconds: number
  maxReceiveCount?: number
  /** Defaults to an SQSClient from the environment (AWS_ENDPOINT_URL_SQS, set by load-env.ts). */
  client?: SQSClient
}

/** A client for the stack's moto when the environment is not loaded (stack:up itself). */
export function stackSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  })
}

const defaultClient = () => new SQSClient({})

// Dead letters are for a human to read: keep them the maximum 14 days.
const dlqRetentionSeconds = String(14 * 24 * 3600)

// CreateQueue without attributes returns the existing queue's URL; the attributes are then set
// every time, so a second call with another visibility timeout updates instead of failing with
// QueueAlreadyExists (what CreateQueue does when given different attributes).
async function ensureQueue(
  client: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<{ url: string; arn: string }> {
  const created = await client.send(new CreateQueueCommand({ QueueName: name }))
  const url = created.QueueUrl
  if (!url) throw new Error(`CreateQueue ${name}: no QueueUrl in the answer`)
  await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }))
  const got = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  )
  const arn = got.Attributes?.QueueArn
  if (!arn) throw new Error(`GetQueueAttributes ${name}: no QueueArn`)
  return { url, arn }
}

async function ensureWorkQueue(
  client: SQSClient,
  name: string,
  opts: WorkQueueOptions,
): Promise<WorkQueue> {
  const dlq = await ensureQueue(client, `${name}-dlq`, {
    MessageRetentionPeriod: dlqRetentionSeconds,
  })
  const redrivePolicy = {
    deadLetterTargetArn: dlq.arn,
    maxReceiveCount: String(opts.maxReceiveCount ?? 3),
  }
  const queue = await ensureQueue(client, name, {
    VisibilityTimeout: String(opts.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify(redrivePolicy),
  })
  return { ...queue, dlqUrl: dlq.url, dlqArn: dlq.arn }
}

/** Creates (or updates) the reconcile and watch queues with their dead-letter queues. */
export async function ensureWorkQueues(opts: WorkQueueOptions): Promise<WorkQueues> {
  const client = opts.client ?? defaultClient()
  const [reconcile, watch] = await Promise.all([
    ensureWorkQueue(client, `${opts.prefix}-reconcile`, opts),
    ensureWorkQueue(client, `${opts.prefix}-watch`, opts),
  ])
  return { reconcile, watch }
}

/**
 * Empties queues, in-flight messages included. The stack's moto allows this any number of times
 * (servers/moto.ts); AWS, and a moto started otherwise, allow one purge per queue per 60 s.
 */
export async function purgeQueues(urls: string[], client = defaultClient()): Promise<void> {
  await Promise.all(urls.map((url) => client.send(new PurgeQueueCommand({ QueueUrl: url }))))
}

export interface QueueDepth {
  visible: number
  notVisible: number
  delayed: number
  /** Every message still in the queue: visible + in flight + delayed. */
  total: number
}

export async function queueDepth(url: string, client = defaultClient()): Promise<QueueDepth> {
  const got = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  )
  const count = (name: string) => Number(got.Attributes?.[name as QueueAttributeName] ?? 0)
  const visible = count('ApproximateNumberOfMessages')
  const notVisible = count('ApproximateNumberOfMessagesNotVisible')
  const delayed = count('ApproximateNumberOfMessagesDelayed')
  return { visible, notVisible, delayed, total: visible + notVisible + delayed }
}
