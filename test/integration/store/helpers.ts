import { randomBytes } from 'node:crypto'
import type { Db } from 'mongodb'
import { vi } from 'vitest'
import { loadConfig, type Config, type Env } from '../../../lib/config.js'
import type { KubeObject } from '../../../lib/kube/types.js'
import type { RetryPolicy } from '../../../lib/retry.js'
import { MongoConnection } from '../../../lib/store/connection/client.js'

/** A database of its own per test, so tests never see each other's documents. */
export const randomDbName = (prefix = 'store') => `${prefix}_${randomBytes(5).toString('hex')}`

/** Short retry delays: tests exercise the retry path, not its patience. */
export const fastRetry: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 50,
  maxDelayMs: 400,
  backoffMultiplier: 2,
}

export function testConfig(overrides: Env = {}): Config {
  return loadConfig({
    ...process.env,
    MONGODB_DB: randomDbName(),
    RETRY_INITIAL_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '400',
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: '2000',
    MONGODB_TIMEOUT_MS: '2000',
    BULK_WRITE_BATCH_DELAY_MS: '0',
    ...overrides,
  })
}

/** The test's connection, as a container keeps one (one at a time: freshDb closes the last). */
let connection: MongoConnection | undefined

/** Connects a fresh client to a fresh database of its own. */
export async function freshDb(
  overrides: Env = {},
): Promise<{ db: Db; config: Config; mongo: MongoConnection }> {
  await connection?.disconnectDB()
  const config = testConfig(overrides)
  connection = new MongoConnection(config)
  const db = await connection.connectDB({ retryPolicy: fastRetry })
  return { db, config, mongo: connection }
}

export async function dropAndDisconnect(db: Db | undefined): Promise<void> {
  await db?.dropDatabase().catch(() => undefined)
  await connection?.disconnectDB()
}

/**
 * Every line written to stdout/stderr while capturing (the logger writes JSON
 * lines there). Output is swallowed, not passed on: the runner's own stream
 * wrappers call back into write() and would recurse.
 */
export function captureOutput() {
  const lines: string[] = []
  const grab = (chunk: unknown): boolean => {
    lines.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
    )
    return true
  }
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab)
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab)
  return {
    lines,
    text: () => lines.join(''),
    /** Parsed JSON log events (non-JSON lines skipped). */
    events: (): Array<Record<string, unknown>> =>
      lines
        .join('')
        .split('\n')
        .flatMap((line): Array<Record<string, unknown>> => {
          try {
            const parsed: unknown = JSON.parse(line)
            return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : []
          } catch {
            return []
          }
        }),
    restore: () => {
      out.mockRestore()
      err.mockRestore()
    },
  }
}

/** A pod-like object whose keys are everything MongoDB-compatible stores dislike. */
export function hostileObject(i: number, rv = String(1000 + i)): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `cm-${i}`,
      namespace: `ns-${i % 7}`,
      uid: `uid-${i.toString().padStart(6, '0')}`,
      resourceVersion: rv,
      labels: { 'app.kubernetes.io/name': `app-${i % 3}`, tier: 'web' },
      annotations: { 'example.com/%odd': '100%', $weird: 'x' },
      managedFields: [
        { manager: 'kubectl', fieldsV1: { 'f:data': { '.': {}, 'f:nginx.conf': {} } } },
      ],
    },
    data: {
      'nginx.conf': `server { listen ${i}; }`,
      '.hidden': 'dot',
      '%2E': 'looks encoded',
      '%24ref': 'also looks encoded',
      'ü.é/🙂': 'unicode',
      '': 'empty key',
    },
    spec: {
      schema: {
        $ref: '#/definitions/x',
        properties: { 'a.b': { $ref: 'y', 'x.y': [{ '$z.w': i }] } },
      },
      list: [{ 'k.1': 1 }, [{ $deep: null }], 'text', 1.5, true],
    },
  }
}

export const withoutManagedFields = (o: KubeObject): KubeObject => {
  const { managedFields: _m, ...metadata } = o.metadata
  return { ...o, metadata }
}

/** FerretDB answers buildInfo with `ferretdbVersion`; real MongoDB does not. */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.command({ buildInfo: 1 })
  return typeof info.ferretdbVersion === 'string'
}

/** Runs `fn` with stdout/stderr captured: its result and the JSON log events it printed. */
export async function withCapturedLogs<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; events: Array<Record<string, unknown>> }> {
  const output = captureOutput()
  try {
    const result = await fn()
    return { result, events: output.events() }
  } finally {
    output.restore()
  }
}
