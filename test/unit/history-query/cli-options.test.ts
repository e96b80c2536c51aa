import { describe, expect, it } from 'vitest'
import { cliOptions, UsageError } from '../../../scripts/history/cli-options.js'

const now = new Date('2026-11-28T12:00:00.000Z')
const parse = (...argv: string[]) => cliOptions(argv, now)
const problem = (...argv: string[]) => {
  try {
    parse(...argv)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error(`accepted ${argv.join(' ')}`)
}

describe('npm run history options', () => {
  it('reads a timeline request', () => {
    const o = parse(
      '--resource',
      'apps/v1/deployments',
      '--namespace',
      'shop',
      '--name',
      'web',
      '--since',
      '2h',
      '--diff',
    )
    expect(o).toMatchObject({
      resource: 'apps/v1/deployments',
      namespace: 'shop',
      name: 'web',
      diff: true,
      asOf: undefined,
    })
    expect(o.since?.toISOString()).toBe('2026-11-28T10:00:00.000Z')
  })

  it('takes a missing --namespace as a cluster-scoped object', () => {
    expect(parse('--resource', 'v1/namespaces', '--name', 'shop')).toMatchObject({
      namespace: null,
      namespaceGiven: false,
    })
  })

  it('names a resource id that is not one, and the forms allowed', () => {
    expect(problem('--resource', 'deployments', '--name', 'web')).toMatch(
      /--resource "deployments" is not a resource id: expected <version>\/<plural>.*apps\/v1\/deployments/,
    )
    expect(problem('--name', 'web')).toMatch(/--resource is required/)
  })

  it('names a bad duration or time and what is allowed', () => {
    expect(problem('--resource', 'v1/configmaps', '--name', 'x', '--since', '2x')).toMatch(
      /--since "2x" is not an ISO 8601 time with a zone .* or a duration such as 90s, 30m, 2h/,
    )
    expect(problem('--resource', 'v1/configmaps', '--as-of', '2026-11-28 10:00')).toMatch(
      /--as-of "2026-11-28 10:00" is not/,
    )
  })

  it('needs --name or --as-of, and keeps --as-of apart from --since and --diff', () => {
    expect(problem('--resource', 'v1/configmaps')).toMatch(/without --name, give --as-of/)
    expect(
      problem('--resource', 'v1/configmaps', '--name', 'x', '--as-of', '1h', '--diff'),
    ).toMatch(/does not combine/)
  })

  it('refuses an unknown option', () => {
    expect(problem('--resource', 'v1/configmaps', '--name', 'x', '--colour')).toMatch(/--colour/)
  })

  it('reads a whole-resource state request', () => {
    const o = parse('--resource', 'v1/configmaps', '--as-of', '2026-11-28T10:22:00Z', '--json')
    expect(o).toMatchObject({ name: undefined, json: true, namespaceGiven: false })
    expect(o.asOf?.toISOString()).toBe('2026-11-28T10:22:00.000Z')
  })
})
