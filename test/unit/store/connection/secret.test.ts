import { describe, expect, it } from 'vitest'
import { redactText } from '../../../../lib/redact.js'
import { parseMongoSecret } from '../../../../lib/store/connection/secret.js'

const uri = 'mongodb://sync:S3cr3t%2Fpass@db.internal:27017/?authSource=admin'

describe('MongoDB secret parsing', () => {
  it('accepts JSON with a uri field', () => {
    expect(parseMongoSecret(JSON.stringify({ uri, other: 1 }), 'prod/mongo')).toBe(uri)
  })

  it('accepts a plain connection string', () => {
    expect(parseMongoSecret(`  ${uri}\n`, 'prod/mongo')).toBe(uri)
    expect(parseMongoSecret('mongodb+srv://a:b12345678@cluster0.example.net', 'x')).toMatch(
      /^mongodb\+srv/,
    )
  })

  it.each([
    ['', /prod\/mongo is empty/],
    ['{"uri": ', /prod\/mongo looks like JSON but does not parse/],
    ['{"url": "mongodb://a:b@c"}', /prod\/mongo is JSON without a string field "uri"/],
    ['postgres://user:pw-value-123@h/db', /prod\/mongo does not hold a connection string/],
  ])('names the secret and the problem, never the value (%j)', (text, message) => {
    const parse = () => parseMongoSecret(text, 'prod/mongo')
    expect(parse).toThrow(message)
    try {
      parse()
    } catch (error) {
      expect((error as Error).message).not.toContain('pw-value-123')
      expect((error as Error).message).not.toContain('mongodb://a:b@c')
    }
  })

  it('registers the password, raw and decoded, with the redactor', () => {
    parseMongoSecret(uri, 'prod/mongo')
    expect(redactText('failed with S3cr3t/pass and S3cr3t%2Fpass')).not.toMatch(/S3cr3t/)
  })
})
