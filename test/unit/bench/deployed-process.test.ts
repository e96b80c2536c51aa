import { describe, expect, it } from 'vitest'

import {
  deployedBundleSettings,
  deployedNodeOptions,
  deployedReconcileMemoryMb,
  lambdaNodeFlags,
} from '../../bench/deployed-process.js'

describe('the bench runs the sync as deployed', () => {
  it('gives V8 the heap limits the Lambda runtime derives from the memory size', () => {
    expect(lambdaNodeFlags(512)).toEqual([
      '--expose-gc',
      '--max-semi-space-size=25',
      '--max-old-space-size=461',
    ])
    expect(lambdaNodeFlags(1024)).toEqual([
      '--expose-gc',
      '--max-semi-space-size=51',
      '--max-old-space-size=922',
    ])
  })

  it("reads the reconcile function's memory, NODE_OPTIONS and bundle settings from serverless.yml", () => {
    expect(deployedReconcileMemoryMb()).toBe(512)
    expect(deployedNodeOptions()).toEqual([])
    expect(deployedNodeOptions('    NODE_OPTIONS: --a --b\n')).toEqual(['--a', '--b'])
    expect(deployedBundleSettings()).toEqual({
      minify: false,
      sourcemap: true,
      sourcesContent: false,
    })
  })

  it('names the setting it cannot find', () => {
    expect(() => deployedReconcileMemoryMb('params:\n  default: {}\n')).toThrow(/reconcileMemory/)
  })
})
