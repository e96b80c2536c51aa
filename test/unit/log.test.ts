import { afterEach, describe, expect, it, vi } from 'vitest'
import { errorFields, logger, withLogFields } from '../../lib/log.js'
import { redactText, redactUri, registerSecret } from '../../lib/redact.js'
import { logConfig } from '../../lib/config-summary.js'
import { loadConfig } from '../../lib/config.js'

function captureLines(run: () => void): string[] {
  const lines: string[] = []
  const capture = (chunk: unknown) => {
    lines.push(String(chunk))
    return true
  }
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture)
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture)
  try {
    run()
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
  return lines.join('').split('\n').filter(Boolean)
}

describe('redaction', () => {
  afterEach(() => vi.restoreAllMocks())

  it('hides the password of a connection string and keeps the rest', () => {
    expect(redactUri('mongodb://app:s3cr3t-pass@db.example:27017/inv?authSource=admin')).toBe(
      'mongodb://app:***@db.example:27017/inv?authSource=admin',
    )
    expect(redactUri('mongodb+srv://app:p%40ss@cluster0.example.net/')).toBe(
      'mongodb+srv://app:***@cluster0.example.net/',
    )
  })

  it('hides bearer and EKS tokens', () => {
    expect(redactText('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer ***')
    expect(redactText('token k8s-aws-v1.aHR0cHM6Ly9zdHM')).toBe('token k8s-aws-v1.***')
  })

  it('hides values registered as secrets wherever they appear', () => {
    registerSecret('correct-horse-battery-staple')
    expect(redactText('failed with correct-horse-battery-staple in it')).toBe(
      'failed with *** in it',
    )
  })

  it('keeps every secret out of every log line, including error messages and nested fields', () => {
    registerSecret('registered-secret-value-42')
    const lines = captureLines(() => {
      logger.info('connecting', { uri: 'mongodb://root:topsecret-pw@127.0.0.1:27017/' })
      logger.error(
        'failed',
        errorFields(
          new Error(
            'auth failed for mongodb://root:topsecret-pw@h/ token=registered-secret-value-42',
          ),
        ),
      )
      logger.warn('header', {
        nested: { headers: { authorization: 'Bearer eyJhbGciOi.secret-part' } },
      })
    })
    expect(lines).toHaveLength(3)
    const all = lines.join('\n')
    expect(all).not.toContain('topsecret-pw')
    expect(all).not.toContain('registered-secret-value-42')
    expect(all).not.toContain('eyJhbGciOi')
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow()
  })

  it('logs the start-up configuration summary as one structured event, redacted', () => {
    const config = loadConfig({
      MONGODB_URI: 'mongodb://admin:pw-that-must-not-leak@127.0.0.1:27017/',
      SECRET_HASH_KEY: 'hash-key-that-must-not-leak',
    })
    const lines = captureLines(() => logConfig(config))
    expect(lines).toHaveLength(1)
    const event = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(event).toMatchObject({
      event: 'configuration',
      retry: { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30000 },
      timeouts: { mongodbConnectMs: 30000, k8sRequestMs: 30000, k8sWatchMs: 60000 },
      bulkWrite: { batchSize: 100, maxConcurrent: 3 },
      features: { k8sWatchReconnect: true, mongoReconnect: true, chunkedBulkWrite: true },
    })
    expect(lines[0]).not.toContain('pw-that-must-not-leak')
    expect(lines[0]).not.toContain('hash-key-that-must-not-leak')
  })
})

describe('log scopes', () => {
  it("puts the scope's cluster on every line inside it, and never on another scope's", async () => {
    const lines: string[] = []
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk))
      return true
    })
    try {
      const tick = () => new Promise((resolve) => setTimeout(resolve, 1))
      const run = (cluster: string) =>
        withLogFields({ cluster }, async () => {
          for (let i = 0; i < 3; i++) {
            await tick()
            logger.info(`page ${i}`, { event: 'reconcile.page', of: cluster })
          }
        })
      await Promise.all([run('c1'), run('c2')])
      logger.info('outside', { event: 'outside' })
    } finally {
      out.mockRestore()
    }
    const parsed = lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const pages = parsed.filter((l) => l.event === 'reconcile.page')
    expect(pages).toHaveLength(6)
    for (const line of pages) expect(line.cluster).toBe(line.of)
    expect(parsed.find((l) => l.event === 'outside')).not.toHaveProperty('cluster')
  })
})
