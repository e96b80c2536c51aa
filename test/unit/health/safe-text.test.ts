import { describe, expect, it } from 'vitest'
import { safeText } from '../../../lib/health/safe-text.js'
import { registerSecret } from '../../../lib/redact.js'

describe('text fit for the health body', () => {
  it('hides the user-info of a connection string, password and user alike', () => {
    const text = safeText('connect failed: mongodb://sync:hunter2-pass@db.internal:27017/inv')
    expect(text).toBe('connect failed: mongodb://***@db.internal:27017/inv')
  })

  it('hides an unencoded password that itself contains @', () => {
    const text = safeText('bad uri mongodb://sync:p@ss-w0rd@db.internal/')
    expect(text).not.toContain('ss-w0rd')
    expect(text).not.toContain('p@ss')
  })

  it('hides values registered with the redactor (fetched secrets) wherever they appear', () => {
    registerSecret('a-registered-secret-value')
    expect(safeText('auth failed for a-registered-secret-value')).toBe('auth failed for ***')
  })

  it('cuts very long text', () => {
    expect(safeText('x'.repeat(5000)).length).toBeLessThanOrEqual(503)
  })
})
