import { describe, expect, it } from 'vitest'
import { MAX_NAMESPACES, MAX_RESOURCES } from '../../lib/input-limits.js'
import {
  InvalidInputError,
  parseInput,
  reconcileInput,
  watchInput,
} from '../../lib/runtime/invocation-input.js'

describe('reconcile input', () => {
  it('accepts what the cron sends, and the whole EventBridge event as "{}"', () => {
    expect(parseInput(reconcileInput, {}, 'reconcile')).toEqual({})
    const scheduled = {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: ['arn:aws:events:rule/x'],
      detail: {},
    }
    expect(parseInput(reconcileInput, scheduled, 'reconcile')).toEqual({})
  })

  it('accepts a manual resync with resources, namespaces and dryRun', () => {
    const input = {
      resources: ['v1/pods', 'example.com/v1/widgets'],
      namespaces: ['default'],
      dryRun: true,
    }
    expect(parseInput(reconcileInput, input, 'reconcile')).toEqual(input)
  })

  it('accepts an operator confirming the deletes the mass-delete guard held', () => {
    const input = { resources: ['v1/configmaps'], confirmDeletes: true }
    expect(parseInput(reconcileInput, input, 'reconcile')).toEqual(input)
    expect(() => parseInput(reconcileInput, { confirmDeletes: 'yes' }, 'reconcile')).toThrow(
      'field "confirmDeletes"',
    )
    expect(() => parseInput(watchInput, { confirmDeletes: true }, 'watch')).toThrow(
      'unknown field(s) "confirmDeletes"',
    )
  })

  it.each([
    [{ resources: 5 }, 'field "resources"'],
    [{ dryRun: 'yes' }, 'field "dryRun"'],
    [{ resources: ['pods'] }, 'field "resources.0"'],
    [{ namespaces: ['Not_A_Namespace'] }, 'field "namespaces.0"'],
    [{ dryrun: true }, 'unknown field(s) "dryrun"'],
    ['run please', 'field "(input)"'],
  ])('rejects %j with a message naming the field', (input, fragment) => {
    expect(() => parseInput(reconcileInput, input, 'reconcile')).toThrow(InvalidInputError)
    expect(() => parseInput(reconcileInput, input, 'reconcile')).toThrow(fragment)
  })
})

describe('input limits', () => {
  const many = (n: number, name: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => name(i))

  it('merges a resource or namespace named twice, keeping the first-seen order', () => {
    const input = {
      resources: ['v1/pods', 'apps/v1/deployments', 'v1/pods', ' v1/pods'],
      namespaces: ['payments', 'default', 'payments'],
    }
    expect(parseInput(reconcileInput, input, 'reconcile')).toEqual({
      resources: ['v1/pods', 'apps/v1/deployments'],
      namespaces: ['payments', 'default'],
    })
    expect(
      parseInput(watchInput, { resources: ['v1/configmaps', 'v1/configmaps'] }, 'watch'),
    ).toEqual({ resources: ['v1/configmaps'] })
  })

  it.each([
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['kube-system', true],
    ['-leading', false],
    ['trailing-', false],
    ['dots.are.subdomains', false],
    ['UPPER', false],
    ['$where', false],
    ['', false],
  ])('takes %j as a namespace name: %s (a DNS label)', (name, ok) => {
    const parse = () => parseInput(reconcileInput, { namespaces: [name] }, 'reconcile')
    if (ok) expect(parse()).toEqual({ namespaces: [name] })
    else expect(parse).toThrow('field "namespaces.0"')
  })

  it(`refuses more than ${MAX_RESOURCES} resources or ${MAX_NAMESPACES} namespaces in one invocation`, () => {
    const resources = many(MAX_RESOURCES + 1, (i) => `v1/r${i}`)
    const namespaces = many(MAX_NAMESPACES + 1, (i) => `ns-${i}`)

    expect(() => parseInput(reconcileInput, { resources }, 'reconcile')).toThrow(
      'field "resources"',
    )
    expect(() => parseInput(watchInput, { resources }, 'watch')).toThrow('field "resources"')
    expect(() => parseInput(reconcileInput, { namespaces }, 'reconcile')).toThrow(
      'field "namespaces"',
    )
    expect(
      parseInput(reconcileInput, { namespaces: namespaces.slice(1) }, 'reconcile').namespaces,
    ).toHaveLength(MAX_NAMESPACES)
  })
})

describe('watch input', () => {
  it('accepts resources and a window', () => {
    expect(
      parseInput(watchInput, { resources: ['v1/configmaps'], windowSeconds: 20 }, 'watch'),
    ).toEqual({
      resources: ['v1/configmaps'],
      windowSeconds: 20,
    })
  })

  it('rejects a window that is not a whole number of seconds', () => {
    expect(() => parseInput(watchInput, { windowSeconds: 2.5 }, 'watch')).toThrow(
      'field "windowSeconds"',
    )
  })
})
