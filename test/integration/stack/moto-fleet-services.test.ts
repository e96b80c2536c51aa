import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand,
} from '@aws-sdk/client-eks'
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { ensureWorkQueues, purgeQueues, queueDepth, type WorkQueue } from '../../stack/queues.js'
import { rejectionOf, uniqueName } from '../../stack/test-helpers.js'
import { sleep } from '../../stack/wait.js'

// What the fleet (issue 18) relies on from SQS, STS and EKS, proven on the stack's real moto so
// a moto quirk shows up here rather than as a flaky fleet test. Short visibility timeouts keep
// it fast: the queue's is 1 s.

const sqs = new SQSClient({})

async function receive(url: string, extra: Partial<ReceiveMessageCommandInput> = {}) {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, ...extra }),
  )
  return out.Messages ?? []
}

/** Receives until one message arrives (long polls of 1 s), or fails after `timeoutMs`. */
async function receiveOne(
  url: string,
  extra: Partial<ReceiveMessageCommandInput> = {},
  timeoutMs = 5_000,
): Promise<Message> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const [first] = await receive(url, { WaitTimeSeconds: 1, MaxNumberOfMessages: 1, ...extra })
    if (first) return first
  }
  throw new Error(`no message on ${url} within ${timeoutMs} ms`)
}

const receiveCount = (m: Message) => Number(m.Attributes?.ApproximateReceiveCount)

describe('the stack SQS (moto) as the fleet work queue', () => {
  let queue: WorkQueue

  beforeAll(async () => {
    const queues = await ensureWorkQueues({
      prefix: uniqueName('fleet-test'),
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 3,
    })
    queue = queues.reconcile
  })

  beforeEach(() => purgeQueues([queue.url, queue.dlqUrl]))

  afterAll(async () => {
    for (const url of [queue.url, queue.dlqUrl]) {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url }))
    }
  })

  it('creates the queues idempotently, updating the visibility timeout', async () => {
    const prefix = uniqueName('fleet-idem')
    const first = await ensureWorkQueues({ prefix, visibilityTimeoutSeconds: 5 })
    const again = await ensureWorkQueues({ prefix, visibilityTimeoutSeconds: 7 })
    expect(again).toEqual(first)
    expect(first.watch.url).toMatch(new RegExp(`/${prefix}-watch$`))
    expect(first.watch.dlqArn).toMatch(new RegExp(`:${prefix}-watch-dlq$`))
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: again.watch.url, AttributeNames: ['All'] }),
    )
    expect(Attributes?.VisibilityTimeout).toBe('7')
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({
      deadLetterTargetArn: first.watch.dlqArn,
      maxReceiveCount: 3,
    })
    const all = [first.reconcile, first.watch].flatMap((q) => [q.url, q.dlqUrl])
    for (const url of all) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }))
  })

  it('accepts a SendMessageBatch of 10 and delivers all ten, but refuses 11', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({
      Id: `t${i}`,
      MessageBody: JSON.stringify({ v: 1, kind: 'reconcile', cluster: `c${i}` }),
    }))
    const sent = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
    )
    expect(sent.Successful).toHaveLength(10)
    expect(sent.Failed ?? []).toEqual([])
    const bodies = new Set<string>()
    for (let i = 0; i < 10 && bodies.size < 10; i++) {
      for (const m of await receive(queue.url, { VisibilityTimeout: 30 })) bodies.add(m.Body ?? '')
    }
    expect(bodies.size).toBe(10)
    const eleven = [...entries, { Id: 't10', MessageBody: '{}' }]
    const refused = await rejectionOf(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: eleven })),
    )
    expect(refused.name).toBe('TooManyEntriesInBatchRequest')
  })

  it('returns a message whose handler failed (not deleted) after its visibility timeout', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'retry me' }))
    const first = await receiveOne(queue.url, { MessageSystemAttributeNames: ['All'] })
    expect(receiveCount(first)).toBe(1)
    expect(await receive(queue.url)).toEqual([])
    await sleep(1_100)
    const again = await receiveOne(queue.url, { MessageSystemAttributeNames: ['All'] })
    expect(again.MessageId).toBe(first.MessageId)
    expect(receiveCount(again)).toBe(2)
    expect(again.ReceiptHandle).not.toBe(first.ReceiptHandle)
  })

  it('makes a message visible sooner or later with ChangeMessageVisibility', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'move me' }))
    // Received for 30 s, then shortened to 0: it is back at once.
    const held = await receiveOne(queue.url, { VisibilityTimeout: 30 })
    expect(await receive(queue.url)).toEqual([])
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.url,
        ReceiptHandle: held.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    )
    const back = await receiveOne(queue.url, {}, 1_000)
    expect(back.MessageId).toBe(held.MessageId)
    // Lengthened past the queue's 1 s: still hidden after 1.5 s.
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.url,
        ReceiptHandle: back.ReceiptHandle,
        VisibilityTimeout: 3,
      }),
    )
    await sleep(1_500)
    expect(await receive(queue.url)).toEqual([])
    expect(await queueDepth(queue.url)).toMatchObject({ visible: 0, notVisible: 1, total: 1 })
  })

  it('moves a message to the dead-letter queue on the receive after its third', async () => {
    const { MessageId } = await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }),
    )
    for (let n = 1; n <= 3; n++) {
      const m = await receiveOne(queue.url, { MessageSystemAttributeNames: ['All'] })
      expect(receiveCount(m)).toBe(n)
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.url,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      )
    }
    // Received three times and visible again: moto moves it only when a receive meets it, so it
    // still counts on the work queue.
    expect(await queueDepth(queue.url)).toMatchObject({ visible: 1, total: 1 })
    expect((await queueDepth(queue.dlqUrl)).total).toBe(0)
    // The fourth receive moves it instead of returning it.
    expect(await receive(queue.url)).toEqual([])
    expect((await queueDepth(queue.url)).total).toBe(0)
    const dead = await receiveOne(queue.dlqUrl, { MessageSystemAttributeNames: ['All'] })
    expect(dead.MessageId).toBe(MessageId)
    expect(dead.Body).toBe('poison')
    // The same message moves: its receive count carries on (3 on the work queue + this one).
    expect(receiveCount(dead)).toBe(4)
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: dead.ReceiptHandle }),
    )
  })

  it('returns ApproximateReceiveCount, SentTimestamp, first-receive time and SenderId', async () => {
    const before = Date.now()
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'attrs' }))
    const bySystemNames = await receiveOne(queue.url, { MessageSystemAttributeNames: ['All'] })
    const byLegacyNames = await receiveOne(queue.url, { AttributeNames: ['All'] })
    for (const m of [bySystemNames, byLegacyNames]) {
      const a = m.Attributes ?? {}
      expect(Number(a.SentTimestamp)).toBeGreaterThanOrEqual(before - 1_000)
      expect(Number(a.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
        Number(a.SentTimestamp),
      )
      expect(a.SenderId).toMatch(/\S/)
      expect(Number(a.ApproximateReceiveCount)).toBeGreaterThanOrEqual(1)
    }
    expect(receiveCount(byLegacyNames)).toBe(2)
    const bare = await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'no attrs asked' }),
    )
    const plain = await receiveOne(queue.url)
    expect(plain.MessageId).toBe(bare.MessageId)
    expect(plain.Attributes).toBeUndefined()
  })
})

describe('the stack STS (moto) for cross-account clusters', () => {
  const sts = new STSClient({})
  const roleArn = 'arn:aws:iam::210987654321:role/kube-mongo-sync-reader'
  const assume = (externalId: string) =>
    sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'kube-mongo-sync',
        ExternalId: externalId,
      }),
    )

  it('assumes a role with an ExternalId and returns temporary ASIA credentials', async () => {
    const out = await assume('fleet-external-id')
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/)
    expect(out.Credentials?.SecretAccessKey).toMatch(/\S{20,}/)
    expect(out.Credentials?.SessionToken).toMatch(/\S{20,}/)
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now())
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::210987654321:assumed-role/kube-mongo-sync-reader/kube-mongo-sync',
    )
  })

  it('knows the assumed role by its credentials (GetCallerIdentity)', async () => {
    const { Credentials: c } = await assume('fleet-external-id')
    const asRole = new STSClient({
      credentials: {
        accessKeyId: c?.AccessKeyId ?? '',
        secretAccessKey: c?.SecretAccessKey ?? '',
        sessionToken: c?.SessionToken,
      },
    })
    const who = await asRole.send(new GetCallerIdentityCommand({}))
    expect(who.Account).toBe('210987654321')
    expect(who.Arn).toBe(
      'arn:aws:sts::210987654321:assumed-role/kube-mongo-sync-reader/kube-mongo-sync',
    )
    const self = await sts.send(new GetCallerIdentityCommand({}))
    expect(self.Arn).toBe('arn:aws:sts::123456789012:user/moto')
  })

  // A quirk to know: moto checks no trust policy, so a refused AssumeRole cannot be tested here.
  it('accepts any ExternalId and any role, existing or not', async () => {
    const out = await assume('not-the-agreed-id')
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/)
  })
})

describe('the stack EKS (moto) for discovery', () => {
  const eks = new EKSClient({})
  const euWest = new EKSClient({ region: 'eu-west-1' })
  const name = uniqueName('fleet-eks')
  const tags = { 'kube-mongo-sync/fleet': 'prod', 'kube-mongo-sync/name': 'prod-eu' }
  const create = (client: EKSClient, clusterName: string) =>
    client.send(
      new CreateClusterCommand({
        name: clusterName,
        roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
        resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
        tags,
      }),
    )

  afterAll(async () => {
    await eks.send(new DeleteClusterCommand({ name })).catch(() => undefined)
  })

  it('lists and describes a tagged cluster with endpoint, CA and tags', async () => {
    await create(eks, name)
    const listed = await eks.send(new ListClustersCommand({}))
    expect(listed.clusters).toContain(name)
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }))
    expect(cluster?.endpoint).toMatch(/^https:\/\/\S+\.eks\.amazonaws\.com/)
    expect(cluster?.tags).toEqual(tags)
    expect(cluster?.status).toBe('ACTIVE')
    // Placeholders: the endpoint resolves nowhere and the CA data is random base64, not a PEM,
    // so a discovered moto cluster can be listed but never connected to.
    const ca = Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('latin1')
    expect(cluster?.certificateAuthority?.data).toMatch(/^[A-Za-z0-9+/=]{100,}$/)
    expect(ca).not.toContain('BEGIN CERTIFICATE')
  })

  it('keeps each region apart: a cluster made in eu-west-1 is listed there only', async () => {
    const other = uniqueName('fleet-eks-eu')
    await create(euWest, other)
    try {
      expect((await euWest.send(new ListClustersCommand({}))).clusters).toContain(other)
      expect((await eks.send(new ListClustersCommand({}))).clusters ?? []).not.toContain(other)
    } finally {
      await euWest.send(new DeleteClusterCommand({ name: other }))
    }
  })
})
