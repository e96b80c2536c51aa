import type { DrainSummary, InvocationResult } from './types.js'

/**
 * drain's own lines, told apart from the workers' JSON logs on the same stdout: text lines
 * start with `drain `; with --json every line is an object with `"source": "drain"`.
 */
export function invocationLine(result: InvocationResult, json: boolean): string {
  if (json) return JSON.stringify({ source: 'drain', event: 'invocation', ...without(result) })
  return result.records
    .map((record) =>
      [
        'drain',
        result.queue.padEnd(9),
        (record.failed ? 'failed' : 'ok').padEnd(6),
        record.task,
        `msg=${record.messageId}`,
        `receive=${record.receiveCount}`,
        `${(result.durationMs / 1000).toFixed(2)}s`,
        ...(result.error ? [`error=${JSON.stringify(result.error)}`] : []),
        ...(result.result ? [`result=${JSON.stringify(result.result)}`] : []),
      ].join('  '),
    )
    .join('\n')
}

const without = ({ startedAt: _startedAt, ...rest }: InvocationResult) => rest

export function summaryLines(summary: DrainSummary, json: boolean): string {
  const { invocationResults: _results, ...totals } = summary
  if (json) return JSON.stringify({ source: 'drain', event: 'summary', ...totals })
  const lines = [
    `drain  ${summary.drained ? 'drained' : 'STOPPED before the queues were empty'} in ${(summary.durationMs / 1000).toFixed(1)}s: ` +
      `${summary.invocations} invocations, ${summary.succeeded} succeeded, ${summary.failed} failed, ` +
      `${summary.deleted} deleted, max ${summary.maxInFlight} in flight` +
      (summary.running > 0 ? `, ${summary.running} still running (abandoned)` : ''),
  ]
  for (const queue of summary.queues) {
    const { visible, inFlight, delayed } = queue.left
    lines.push(
      `drain  ${queue.name}: ${queue.invocations} invocations, ${queue.succeeded} ok, ${queue.failed} failed; ` +
        `left ${visible} visible, ${inFlight} in flight, ${delayed} delayed; ` +
        (queue.dlqDepth === undefined
          ? 'no dead-letter queue'
          : `dead-letter queue ${queue.dlqDepth}`),
    )
  }
  return lines.join('\n')
}
