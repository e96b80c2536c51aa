import { retriesOf } from '../invoke.js'
import type { Scenario } from '../scenario.js'

export const row09: Scenario = {
  row: 9,
  fault: 'MongoDB wrong credentials (fatal)',
  quick: true,
  needs: ['own-mongo'],
  async run(ctx) {
    ctx.fatalRow = true
    const wrong = 'not-the-password-f9'
    const uri = ctx.stack.MONGODB_URI!.replace(/\/\/([^:]+):[^@]+@/, `//$1:${wrong}@`)
    const inv = await ctx.invoke(
      'reconcile',
      {},
      ctx.env({ MONGODB_URI: uri, SYNC_RESOURCES: 'v1/configmaps' }),
    )
    const errors = inv.text.filter((l) => / failed: /.test(l))
    ctx.expect(inv.exitCode === 1, `exit ${inv.exitCode}, expected 1`)
    ctx.expect(
      errors.length === 1 && /auth/i.test(errors[0]!),
      `expected one authentication error line, got ${JSON.stringify(errors)}`,
    )
    ctx.expect(retriesOf(inv).length === 0, `${retriesOf(inv).length} retries of an auth failure`)
    const attempts = inv.logs.filter((l) => l.event === 'mongo.connect-failed').length
    ctx.expect(attempts <= 1, `${attempts} connect attempts logged`)
    ctx.expect(!inv.output.includes(wrong), 'the wrong password reached the output')
    const first = inv.logs[0] ? Date.parse(String(inv.logs[0].timestamp)) : inv.startedAt
    const failFast = inv.endedAt - first
    ctx.expect(failFast < 5_000, `took ${failFast} ms after start-up to fail`)
    const collections = await (await ctx.db()).listCollections().toArray()
    ctx.expect(collections.length === 0, `${collections.length} collections written`)
    ctx.note(`failed in ${failFast} ms after start-up: ${errors[0] ?? '?'}`)
  },
}
