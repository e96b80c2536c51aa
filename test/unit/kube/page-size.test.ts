import { describe, expect, it } from 'vitest'
import { KubeResponseTooLargeError } from '../../../lib/kube/errors.js'
import { halvedLimit, limitAfter } from '../../../lib/kube/page-size.js'
import { FatalOperationError } from '../../../lib/errors.js'

const at = { resource: 'v1/configmaps', namespace: undefined, page: 3, limit: 500, floor: 1 }

describe('halvedLimit', () => {
  it('halves down to the floor, then says there is nothing smaller', () => {
    const steps: number[] = []
    for (let limit: number | undefined = 500; limit !== undefined; limit = halvedLimit(limit, 10))
      steps.push(limit)
    expect(steps).toEqual([500, 250, 125, 62, 31, 15, 10])
    expect(halvedLimit(1, 1)).toBeUndefined()
    expect(halvedLimit(3, 1)).toBe(1)
  })
})

describe('limitAfter', () => {
  it('answers a smaller limit for a page over its byte cap, found through retry wrappers', () => {
    const tooLarge = new KubeResponseTooLargeError('list v1/configmaps', 1024)
    const wrapped = new FatalOperationError('list page 3 failed', { cause: tooLarge })
    expect(limitAfter(wrapped, at)).toBe(250)
  })

  it('leaves any other failure to the caller', () => {
    expect(limitAfter(new Error('read ECONNRESET'), at)).toBeUndefined()
  })

  it('fails clearly when the limit is at its floor already', () => {
    const tooLarge = new KubeResponseTooLargeError('list v1/configmaps', 1024)
    expect(() => limitAfter(tooLarge, { ...at, limit: 1 })).toThrow(
      'list v1/configmaps page 3: over K8S_LIST_PAGE_MAX_BYTES (1024 bytes) even with limit 1 (K8S_LIST_PAGE_MIN_SIZE 1)',
    )
  })
})
