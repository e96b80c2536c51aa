import { describe, expect, it } from 'vitest'
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
