import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'

import { SQS_BATCH_MAX, sendTasks } from '../../../lib/fleet/send-tasks.js'
import type { RetryPolicy } from '../../../lib/retry.js'

type Entry = { Id: string; MessageBody: string }
type Answer = { Failed?: Array<{ Id: string; Code: string }> }

const policy: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1,
  maxDelayMs: 1,
  backoffMultiplier: 1,
}

/** A queue client that records every SendMessageBatch and answers with `answer(entries, call)`. */
function fakeSqs(answer: (entries: Entry[], call: number) => Answer = () => ({})) {
  const calls: Entry[][] = []
  let inFlight = 0
  let maxInFlight = 0
  const sqs = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries as Entry[]
      calls.push(entries)
      const call = calls.length
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      // Yield so that the batches sent concurrently overlap.
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return answer(entries, call)
    },
  } as unknown as SQSClient
  return { sqs, calls, maxInFlight: () => maxInFlight }
}

const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ task: i }))
const bodies = (calls: Entry[][]) => calls.flat().map((e) => e.MessageBody)

describe('sendTasks', () => {
  it('sends every task once, in batches of at most 10, one SendMessageBatch per batch', async () => {
    const { sqs, calls, maxInFlight } = fakeSqs()
    const out = await sendTasks(sqs, tasks(205), { queueUrl: 'q', policy, kind: 'reconcile' })
    expect(out).toEqual({ sent: 205, batches: 21 })
    expect(calls).toHaveLength(21)
    expect(calls.every((c) => c.length <= SQS_BATCH_MAX)).toBe(true)
    expect(bodies(calls).sort()).toEqual(
      tasks(205)
        .map((t) => JSON.stringify(t))
        .sort(),
    )
    expect(maxInFlight()).toBeGreaterThan(1)
    expect(maxInFlight()).toBeLessThanOrEqual(8)
  })

  it('sends again only the entries a batch failed, until SQS has them all', async () => {
    const { sqs, calls } = fakeSqs((entries, call) =>
      call === 1
        ? { Failed: [entries[3]!, entries[7]!].map((e) => ({ Id: e.Id, Code: 'x' })) }
        : {},
    )
    const out = await sendTasks(sqs, tasks(10), { queueUrl: 'q', policy, kind: 'reconcile' })
    expect(out).toEqual({ sent: 10, batches: 1 })
    expect(calls).toHaveLength(2)
    expect(calls[1]!.map((e) => e.MessageBody)).toEqual([
      JSON.stringify({ task: 3 }),
      JSON.stringify({ task: 7 }),
    ])
  })

  it('fails naming how many tasks were sent when a batch fails for good', async () => {
    const { sqs } = fakeSqs((entries) => {
      if (entries.some((e) => e.MessageBody === JSON.stringify({ task: 15 })))
        throw new Error('AccessDenied')
      return {}
    })
    await expect(
      sendTasks(sqs, tasks(20), { queueUrl: 'q', policy, kind: 'reconcile' }),
    ).rejects.toThrow(/planning reconcile: sent (0|10) of 20 tasks, then failed/)
  })
})
