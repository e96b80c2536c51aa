import { describe, expect, it } from 'vitest'

import { secondStack, testsUseTwoStacks } from '../../stack/second-stack.js'

describe("npm test's second stack", () => {
  it('lives beside the first stack, its ports 50 above, clear of the first stack and its clusters', () => {
    expect(secondStack({ KMS_STACK_DIR: '/tmp/a-stack', KMS_PORT_OFFSET: '100' })).toEqual({
      KMS_STACK_DIR: '/tmp/a-stack-2',
      KMS_PORT_OFFSET: '150',
    })
  })

  it("defaults to the repository's .stack-2 with ports 50 above the defaults", () => {
    const second = secondStack({})
    expect(second.KMS_STACK_DIR).toMatch(/[/\\]\.stack-2$/)
    expect(second.KMS_PORT_OFFSET).toBe('50')
  })

  it('is used unless KMS_TEST_STACKS=1 asks for one stack', () => {
    expect(testsUseTwoStacks({})).toBe(true)
    expect(testsUseTwoStacks({ KMS_TEST_STACKS: '2' })).toBe(true)
    expect(testsUseTwoStacks({ KMS_TEST_STACKS: '1' })).toBe(false)
  })
})
