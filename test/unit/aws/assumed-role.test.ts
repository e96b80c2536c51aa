import { describe, expect, it } from 'vitest'
import { stsSessionName } from '../../../lib/aws/assumed-role.js'

/** STS RoleSessionName: 2 to 64 characters of [\w+=,.@-]. */
const validSessionName = /^[\w+=,.@-]{2,64}$/

describe('stsSessionName', () => {
  it('names the cluster behind the project prefix', () => {
    expect(stsSessionName('prod-eu')).toBe('kube-mongo-sync-prod-eu')
  })

  it('cuts a long cluster name to the 64 characters STS allows', () => {
    const name = stsSessionName('a'.repeat(63))
    expect(name).toHaveLength(64)
    expect(name).toBe(`kube-mongo-sync-${'a'.repeat(48)}`)
    expect(name).toMatch(validSessionName)
  })

  it('replaces characters STS refuses', () => {
    const name = stsSessionName('team a/prod:eu*1')
    expect(name).toBe('kube-mongo-sync-team-a-prod-eu-1')
    expect(name).toMatch(validSessionName)
  })

  it('keeps the characters STS accepts', () => {
    expect(stsSessionName('a_b+c=d,e.f@g-h')).toBe('kube-mongo-sync-a_b+c=d,e.f@g-h')
  })
})
