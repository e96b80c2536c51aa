import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'

import { readText, readTextWithin } from '../../../lib/kube/http.js'

// objectMode keeps each chunk as given, split points included.
const chunks = (...parts: (Buffer | string)[]) => Readable.from(parts, { objectMode: true })

describe('readText', () => {
  it('keeps a character whole when its bytes arrive in two chunks', async () => {
    const bytes = Buffer.from('{"name":"café ☃"}', 'utf8')
    const snowman = bytes.indexOf(Buffer.from('☃', 'utf8'))
    const text = await readText(chunks(bytes.subarray(0, snowman + 1), bytes.subarray(snowman + 1)))
    expect(text).toBe('{"name":"café ☃"}')
  })

  it('joins text and byte chunks in order', async () => {
    expect(await readText(chunks('a', Buffer.from('b'), 'c'))).toBe('abc')
  })

  it('stops keeping text past maxChars but reads the body to its end', async () => {
    let read = 0
    function* counted(): Generator<Buffer> {
      for (const part of ['aaaa', 'bbbb', 'cccc']) {
        read++
        yield Buffer.from(part)
      }
    }
    expect(await readText(Readable.from(counted(), { objectMode: true }), 6)).toBe('aaaabbbb')
    expect(read).toBe(3)
  })
})

describe('readTextWithin', () => {
  it('gives the whole text of a body within the cap, counting bytes, not characters', async () => {
    const snowmen = '☃☃' // 6 bytes, 2 characters
    expect(await readTextWithin(chunks(Buffer.from(snowmen), 'ab'), 8)).toBe('☃☃ab')
    expect(await readTextWithin(chunks(Buffer.from(snowmen), 'abc'), 8)).toBeUndefined()
  })

  it('stops reading at the cap and closes the body', async () => {
    let read = 0
    function* endless(): Generator<Buffer> {
      for (;;) {
        read++
        yield Buffer.alloc(1024, 'a')
      }
    }
    const body = Readable.from(endless(), { objectMode: true })

    expect(await readTextWithin(body, 4096)).toBeUndefined()

    expect(read).toBeLessThanOrEqual(6) // the cap's 4 chunks, the one over it, one buffered
    expect(body.destroyed).toBe(true)
  })
})
