import { describe, expect, it } from 'vitest'
import { messageOf, SyncError } from '../../lib/errors.js'
import {
  redactDeep,
  redactError,
  redactText,
  registerSecret,
  registerSecretValue,
} from '../../lib/redact.js'

describe('redactText with the Secret values the function saw', () => {
  it('hides a seen value wherever it appears, once or many times, and keeps the rest', () => {
    registerSecretValue('seen-value-alpha-0001')
    expect(redactText('a seen-value-alpha-0001 b "seen-value-alpha-0001"')).toBe('a *** b "***"')
    expect(redactText('nothing to hide here')).toBe('nothing to hide here')
  })

  it('hides the longest of two seen values sharing a beginning', () => {
    registerSecretValue('shared-prefix-short')
    registerSecretValue('shared-prefix-short-and-longer')
    expect(redactText('x shared-prefix-short-and-longer y shared-prefix-short z')).toBe(
      'x *** y *** z',
    )
  })

  it('finds a value among many thousands registered', () => {
    for (let i = 0; i < 20_000; i++) registerSecretValue(`bulk-value-${i}-${'x'.repeat(20)}`)
    expect(redactText(`error: bulk-value-12345-${'x'.repeat(20)} was refused`)).toBe(
      'error: *** was refused',
    )
  })

  it('ignores values too short to be told from ordinary words', () => {
    registerSecretValue('short')
    expect(redactText('a short word')).toBe('a short word')
  })
})

describe('redaction at the source', () => {
  it('gives every message redacted: messageOf is what reports and stored errors use', () => {
    registerSecret('a-registered-credential-7')
    expect(messageOf(new Error('failed: a-registered-credential-7'))).toBe('failed: ***')
    expect(messageOf('mongodb://u:pw-in-a-string@h/')).toBe('mongodb://u:***@h/')
  })

  it('redacts every string of a report, nested in objects and arrays', () => {
    registerSecret('report-secret-value-9')
    const report = {
      ok: false,
      count: 3,
      at: new Date(0),
      resources: [{ error: 'list failed: report-secret-value-9', status: 'failed' }],
    }
    expect(redactDeep(report)).toEqual({
      ok: false,
      count: 3,
      at: new Date(0),
      resources: [{ error: 'list failed: ***', status: 'failed' }],
    })
  })

  it('redacts a thrown error in place: message, stack, context and causes', () => {
    registerSecret('thrown-secret-value-3')
    const cause = new Error('socket said thrown-secret-value-3')
    const error = new SyncError('run failed: thrown-secret-value-3', {
      context: { operation: 'op thrown-secret-value-3' },
      cause,
    })
    expect(redactError(error)).toBe(error)
    expect(error.message).toBe('run failed: ***')
    expect(error.stack).not.toContain('thrown-secret-value-3')
    expect(error.stack).toContain('run failed: ***')
    expect(error.context).toEqual({ operation: 'op ***' })
    expect(cause.message).toBe('socket said ***')
    expect(cause.stack).not.toContain('thrown-secret-value-3')
  })
})
