import { describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { makeWatchStream, parseWatchEvents } from '../../../lib/kube/watch-stream.js'
import type { WatchEvent } from '../../../lib/kube/types.js'
import { fakeTransport } from './fakes/fake-transport.js'
import { configMaps } from './fakes/resources.js'

const line = (type: string, rv: string, name = 'a') =>
  JSON.stringify({
    type,
    object: { kind: 'ConfigMap', metadata: { name, uid: `u-${name}`, resourceVersion: rv } },
  }) + '\n'

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    await Promise.resolve()
    yield Buffer.from(part)
  }
}

async function collect(
  stream: AsyncIterable<WatchEvent>,
): Promise<{ events: WatchEvent[]; error?: unknown }> {
  const events: WatchEvent[] = []
  try {
    for await (const event of stream) events.push(event)
    return { events }
  } catch (error) {
    return { events, error }
  }
}

describe('parseWatchEvents', () => {
  it('yields events split across chunks and multi-byte characters, in order', async () => {
    const text = line('ADDED', '1', 'é') + line('MODIFIED', '2') + line('BOOKMARK', '3')
    const bytes = Buffer.from(text)
    const parts = [bytes.subarray(0, 7), bytes.subarray(7, 60), bytes.subarray(60)].map((b) =>
      b.toString('latin1'),
    )
    const body = (async function* () {
      for (const p of parts) {
        await Promise.resolve()
        yield Buffer.from(p, 'latin1')
      }
    })()

    const { events, error } = await collect(parseWatchEvents(body, 'watch'))

    expect(error).toBeUndefined()
    expect(events.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['BOOKMARK', '3'],
    ])
    expect(events[0]?.object.metadata.name).toBe('é')
  })

  it('turns an ERROR event into an error with the Status code (410 = expired)', async () => {
    const gone = JSON.stringify({
      type: 'ERROR',
      object: {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version: 5 (9)',
      },
    })

    const { events, error } = await collect(
      parseWatchEvents(chunks(line('ADDED', '6'), gone + '\n'), 'watch x'),
    )

    expect(events).toHaveLength(1)
    expect(error).toMatchObject({
      code: 410,
      message: 'watch x: HTTP 410 Expired: too old resource version: 5 (9)',
    })
    expect(classify(error).kind).toBe('expired')
  })

  it('reports a stream cut inside an event as a transient truncation', async () => {
    const { events, error } = await collect(
      parseWatchEvents(chunks(line('ADDED', '1'), '{"type":"MODI'), 'watch'),
    )

    expect(events).toHaveLength(1)
    expect(error).toMatchObject({ name: 'WatchTruncatedError' })
    expect(classify(error).kind).toBe('transient')
    // The last good version: where the watcher resumes.
    expect(error).toMatchObject({ context: { operation: 'watch', resourceVersion: '1' } })
  })

  it('fails on a line that is not JSON (damaged on the way: transient), without quoting it', async () => {
    const { error } = await collect(
      parseWatchEvents(chunks('{"data":{"password":"hunter2"\n'), 'watch'),
    )

    expect(error).toMatchObject({ name: 'WatchGarbledError' })
    expect((error as Error).message).not.toContain('hunter2')
    expect(classify(error).kind).toBe('transient')
  })

  it('fails, not retried, on an unknown event type or an event without resourceVersion', async () => {
    expect(
      (await collect(parseWatchEvents(chunks('{"type":"WHAT","object":{}}\n'), 'w'))).error,
    ).toMatchObject({ name: 'WatchParseError' })
    const noVersion = await collect(
      parseWatchEvents(chunks('{"type":"ADDED","object":{"metadata":{}}}\n'), 'w'),
    )
    expect(noVersion.error).toMatchObject({ name: 'WatchParseError' })
    expect(classify(noVersion.error).kind).toBe('fatal')
  })
})

describe('parseWatchEvents at the edge', () => {
  const refusedLine = (metadata: Record<string, unknown>, type = 'ADDED') =>
    JSON.stringify({ type, object: { kind: 'ConfigMap', metadata } }) + '\n'

  it('hands an event with an operator for a uid to onRefused, and goes on with the next', async () => {
    const refused: unknown[] = []
    const body = chunks(
      line('ADDED', '1', 'a'),
      refusedLine({ uid: { $gt: '' }, name: 'b', namespace: 'ns', resourceVersion: '2' }),
      refusedLine({ uid: 'u-c', name: 'c', resourceVersion: '' }, 'DELETED'),
      line('MODIFIED', '4', 'd'),
    )

    const { events, error } = await collect(
      parseWatchEvents(body, 'w', {}, { onRefused: (r) => refused.push(r) }),
    )

    expect(error).toBeUndefined()
    expect(events.map((e) => e.object.metadata.name)).toEqual(['a', 'd'])
    expect(refused).toEqual([
      {
        key: expect.stringMatching(/^invalid:/),
        name: 'b',
        namespace: 'ns',
        resourceVersion: '2',
        reason: 'metadata.uid missing or not a non-empty string',
      },
      {
        key: 'u-c',
        uid: 'u-c',
        name: 'c',
        reason: 'metadata.resourceVersion missing or not a non-empty string',
        deleted: true,
      },
    ])
  })

  it('fails the stream on a line over the cap, before reading all of it', async () => {
    let served = 0
    const big = JSON.stringify({ type: 'ADDED', object: { data: 'x'.repeat(10_000) } })
    const body = (async function* () {
      yield Buffer.from(line('ADDED', '1', 'a'))
      for (let i = 0; i < big.length; i += 1000) {
        served++
        await Promise.resolve()
        yield Buffer.from(big.slice(i, i + 1000))
      }
      yield Buffer.from('\n')
    })()

    const { events, error } = await collect(
      parseWatchEvents(body, 'watch v1/configmaps', {}, { maxLineBytes: 4096 }),
    )

    expect(events).toHaveLength(1)
    expect(error).toMatchObject({
      name: 'WatchLineTooLargeError',
      message:
        'watch v1/configmaps: an event over K8S_WATCH_LINE_MAX_BYTES (4096 bytes); the window stops here',
      context: { resourceVersion: '1' },
    })
    expect(classify(error).kind).toBe('fatal')
    expect(served).toBe(5)
  })

  it('takes lines up to the cap exactly, counted in bytes', async () => {
    const one = line('ADDED', '1', 'é')
    const bytes = Buffer.byteLength(one) - 1 // without its newline
    const within = await collect(parseWatchEvents(chunks(one), 'w', {}, { maxLineBytes: bytes }))
    expect(within.error).toBeUndefined()
    const over = await collect(parseWatchEvents(chunks(one), 'w', {}, { maxLineBytes: bytes - 1 }))
    expect(over.error).toMatchObject({ name: 'WatchLineTooLargeError' })
  })
})

describe('watchStream', () => {
  it('asks for a watch from the version, with bookmarks and the timeout', async () => {
    const transport = fakeTransport(() => ({ chunks: [line('ADDED', '11')] }))
    const watch = makeWatchStream(transport, { connectTimeoutMs: 1000 })

    const stream = await watch({
      resolved: configMaps,
      namespace: 'ns',
      resourceVersion: '10',
      timeoutSeconds: 42,
      allowWatchBookmarks: true,
      signal: new AbortController().signal,
    })

    expect((await collect(stream)).events).toHaveLength(1)
    expect(transport.requests[0]).toMatchObject({
      path: '/api/v1/namespaces/ns/configmaps',
      query: {
        watch: 'true',
        resourceVersion: '10',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '42',
      },
    })
  })

  it('rejects with the HTTP status of a refused watch', async () => {
    const forbidden = {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'secrets is forbidden',
    }
    const watch = makeWatchStream(
      fakeTransport(() => ({ status: 403, json: forbidden })),
      { connectTimeoutMs: 1000 },
    )

    const request = {
      resolved: configMaps,
      resourceVersion: '10',
      timeoutSeconds: 5,
      allowWatchBookmarks: true as const,
      signal: new AbortController().signal,
    }
    await expect(watch(request)).rejects.toMatchObject({ code: 403, reason: 'Forbidden' })
  })
})
