import { describe, expect, it } from 'vitest'
import { readAhead } from '../../../lib/sync/read-ahead.js'

function deferred() {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

async function* counted(items: number[], log: number[], failAt?: number) {
  for (const item of items) {
    await Promise.resolve()
    if (item === failAt) throw new Error(`item ${item} failed`)
    log.push(item)
    yield item
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('readAhead', () => {
  it('reads at most `max` items ahead while not ready, and loses none of them', async () => {
    const ready = deferred()
    const read: number[] = []
    const out: number[] = []
    const consuming = (async () => {
      for await (const item of readAhead(counted([1, 2, 3, 4, 5], read), ready.promise, 2)) {
        await ready.promise // as the reconcile waits for its index
        out.push(item)
      }
    })()
    await tick()
    expect(read).toEqual([1, 2])
    expect(out).toEqual([])
    ready.resolve()
    await consuming
    expect(out).toEqual([1, 2, 3, 4, 5])
  })

  it('passes items through one at a time once ready', async () => {
    const read: number[] = []
    const seenWhenYielded: number[] = []
    for await (const item of readAhead(counted([1, 2, 3], read), Promise.resolve(), 8)) {
      seenWhenYielded.push(read.length)
      expect(item).toBe(read.at(-1))
    }
    expect(seenWhenYielded).toEqual([1, 2, 3])
  })

  it('ends with a source shorter than the read-ahead', async () => {
    const ready = deferred()
    const out: number[] = []
    const consuming = (async () => {
      for await (const item of readAhead(counted([1], []), ready.promise, 4)) out.push(item)
    })()
    await tick()
    ready.resolve()
    await consuming
    expect(out).toEqual([1])
  })

  it('stops reading ahead when the awaited promise fails, and lets the caller see the failure', async () => {
    const ready = deferred()
    const read: number[] = []
    const out: number[] = []
    const consuming = (async () => {
      for await (const item of readAhead(counted([1, 2, 3], read), ready.promise, 8)) {
        await ready.promise
        out.push(item)
      }
    })()
    ready.reject(new Error('index failed'))
    await expect(consuming).rejects.toThrow('index failed')
    expect(out).toEqual([])
  })

  it('passes on an error of the source, read ahead or not', async () => {
    const ready = deferred()
    const out: number[] = []
    const consuming = (async () => {
      for await (const item of readAhead(counted([1, 2, 3], [], 2), ready.promise, 8))
        out.push(item)
    })()
    await expect(consuming).rejects.toThrow('item 2 failed')
    expect(out).toEqual([])
    ready.resolve()
  })
})
