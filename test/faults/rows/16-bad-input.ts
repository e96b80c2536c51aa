import pLimit from 'p-limit'
import { retriesOf } from '../invoke.js'
import type { Scenario } from '../scenario.js'

interface Case {
  readonly name: string
  readonly fn?: 'reconcile' | 'watch'
  readonly env?: Record<string, string>
  readonly input?: unknown
  /** What the one error line must name. */
  readonly names: string
}

const cases: Case[] = [
  {
    name: 'non-numeric retry count',
    env: { RETRY_MAX_ATTEMPTS: 'abc' },
    names: 'RETRY_MAX_ATTEMPTS',
  },
  {
    name: 'negative delay',
    env: { BULK_WRITE_BATCH_DELAY_MS: '-5' },
    names: 'BULK_WRITE_BATCH_DELAY_MS',
  },
  {
    name: 'malformed resource list',
    env: { SYNC_RESOURCES: 'v1/pods,not a resource' },
    names: 'SYNC_RESOURCES',
  },
  {
    name: 'not a MongoDB URI',
    env: { MONGODB_URI: 'http://127.0.0.1:1/db' },
    names: 'MONGODB_URI',
  },
  {
    name: 'pool min above max',
    env: { MONGO_POOL_MIN: '20', MONGO_POOL_MAX: '10' },
    names: 'MONGO_POOL_MIN',
  },
  {
    name: 'not a boolean',
    env: { ENABLE_MONGO_RECONNECT: 'maybe' },
    names: 'ENABLE_MONGO_RECONNECT',
  },
  { name: 'unknown input field', input: { dryrun: true }, names: '"dryrun"' },
  { name: 'wrong input type', input: { resources: 'v1/pods' }, names: 'resources' },
  { name: 'bad namespace name', input: { namespaces: ['Bad_NS'] }, names: 'namespaces' },
  {
    name: 'watch window out of range',
    fn: 'watch',
    input: { windowSeconds: 0 },
    names: 'windowSeconds',
  },
]

export const row16: Scenario = {
  row: 16,
  fault: 'bad configuration / bad invocation input',
  quick: true,
  async run(ctx) {
    ctx.fatalRow = true
    const limit = pLimit(3)
    await Promise.all(
      cases.map((c) =>
        limit(async () => {
          const inv = await ctx.invoke(
            c.fn ?? 'reconcile',
            c.input ?? {},
            ctx.env({ SYNC_RESOURCES: 'v1/configmaps', ...c.env }),
          )
          const errors = inv.text.filter((l) => / failed: /.test(l))
          ctx.expect(
            inv.exitCode === 1,
            `${c.name}: exit ${inv.exitCode}, expected 1 (invocation failed)`,
          )
          // Configuration problems come as one block: "failed: Invalid configuration:" and one line per variable.
          const message = inv.text.join('\n')
          ctx.expect(
            errors.length === 1 && message.includes(c.names),
            `${c.name}: expected one error naming ${c.names}, got ${JSON.stringify(inv.text)}`,
          )
          ctx.expect(retriesOf(inv).length === 0, `${c.name}: ${retriesOf(inv).length} retries`)
          ctx.expect(
            !inv.logs.some((l) => l.event === 'mongo.connected'),
            `${c.name}: connected to MongoDB before rejecting`,
          )
        }),
      ),
    )
    // An unknown (well-formed) resource is only known to be unknown after discovery.
    const unknown = await ctx.invoke(
      'reconcile',
      {},
      ctx.env({ SYNC_RESOURCES: 'v1/nosuchthings' }),
    )
    const line = unknown.result?.resources.find((r) => r.resource === 'v1/nosuchthings')
    ctx.expect(
      unknown.exitCode !== 0 &&
        (line?.error?.includes('nosuchthings') ||
          unknown.text.some((t) => t.includes('nosuchthings'))),
      `unknown resource: exit ${unknown.exitCode}, error ${line?.error ?? unknown.text.join(' ')}`,
    )
    ctx.expect(
      retriesOf(unknown).length === 0,
      `unknown resource: ${retriesOf(unknown).length} retries`,
    )
    const db = await ctx.db()
    const written = await db.collection('nosuchthings').countDocuments()
    const collections = (await db.listCollections().toArray()).map((c) => c.name)
    ctx.expect(written === 0, `unknown resource: ${written} documents written`)
    ctx.note(
      `${cases.length + 1} cases; collections afterwards: ${collections.join(', ') || 'none'}`,
    )
  },
}
