import type { CommandStartedEvent } from 'mongodb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseResourceRef, stateIdOf } from '../../../lib/resource-ref.js'
import {
  acquireLease,
  type LeaseAnswer,
  type LeaseClaim,
} from '../../../lib/store/bookkeeping/lease.js'
import { kubeConfigFrom } from '../../stack/test-helpers.js'
import { converged, divergence, harness, namespaceWithConfigMaps, type Harness } from './harness.js'

/*
 * A run's lease on the real MongoDB server, with small settings: a lease
 * lives 3 s unless renewed, and a running invocation renews it every second.
 */

const leases = {
  SYNC_RESOURCES: 'v1/configmaps',
  LEASE_TTL_MS: '3000',
  LEASE_RENEW_INTERVAL_MS: '1000',
}
/** 120 ConfigMaps in chunks of 4, one at a time, 150 ms apart: a run of 4.5 s or more. */
const slowWrites = {
  BULK_WRITE_BATCH_SIZE: '4',
  BULK_WRITE_MAX_CONCURRENT: '1',
  BULK_WRITE_BATCH_DELAY_MS: '150',
  ENABLE_ADAPTIVE_PACING: 'false',
}
const configmaps = parseResourceRef('v1/configmaps')!
const stateId = stateIdOf('test', configmaps)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const newestClaim = (h: Harness) =>
  h.db
    .collection<LeaseClaim>('sync_leases')
    .find({ stateId })
    .sort({ generation: -1 })
    .limit(1)
    .next()

describe('a run’s lease against the real MongoDB server (TTL 3 s, renewed every 1 s)', () => {
  const kc = kubeConfigFrom()
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('lets the next run take over the lease of a holder that died once its TTL has passed, and converges', async () => {
    const ns = await namespaceWithConfigMaps(kc, 20, 'lease')
    h = await harness(leases)
    // A holder that took the lease and died: it never renews nor releases it.
    expect(await acquireLease(h.db, stateId, 'reconcile/dead', 3_000)).toEqual({ acquired: true })
    const until = (await newestClaim(h))!.expiresAt
    const held = `another invocation holds the lease: reconcile/dead, until ${until.toISOString()}`

    const scheduled = await h.reconcile({})
    const manual = await h.reconcile({ namespaces: [ns] })

    expect(scheduled.ok).toBe(true)
    expect(scheduled.resources[0]).toMatchObject({ status: 'skipped', error: held })
    expect(manual.ok).toBe(false)
    expect(manual.resources[0]).toMatchObject({ status: 'skipped', error: held, inserted: 0 })
    expect((await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).lost).toHaveLength(20)

    await sleep(until.getTime() - Date.now() + 100)
    const after = await h.reconcile({ namespaces: [ns] })

    expect(after.ok).toBe(true)
    expect(after.resources[0]).toMatchObject({ status: 'complete', inserted: 20 })
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
    expect(await newestClaim(h)).toMatchObject({ owner: null })
  }, 60_000)

  it('keeps its lease through a run longer than the TTL, refusing it to every other taker', async () => {
    const ns = await namespaceWithConfigMaps(kc, 120, 'lease')
    h = await harness({ ...leases, ...slowWrites })
    const started = Date.now()
    const run = h.reconcile({ namespaces: [ns] })
    const refusals: LeaseAnswer[] = []
    // Every 250 ms for 4 s, well past the first TTL, and before the run can end.
    while (Date.now() - started < 4_000) {
      await sleep(250)
      refusals.push(await acquireLease(h.db, stateId, 'reconcile/intruder', 3_000))
    }
    const out = await run

    // Longer than the 3 s TTL: only renewals kept the lease (how much longer depends on the machine).
    expect(out.durationMs).toBeGreaterThan(3_000)
    expect(out.resources[0]).toMatchObject({ status: 'complete', inserted: 120 })
    expect(refusals.length).toBeGreaterThan(12)
    expect(refusals.filter((r) => r.acquired)).toEqual([])
    expect(refusals.at(-1)).toMatchObject({ holder: expect.stringMatching(/^reconcile-/) })
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  }, 60_000)

  it('gives two tasks of one invocation on one resource their own lease owners: only one holds it', async () => {
    const ns = await namespaceWithConfigMaps(kc, 120, 'lease')
    h = await harness({ ...leases, ...slowWrites })
    // Two fan-outs under one invocation id: what a resource named twice would have become.
    const invocation = 'reconcile/one-request'

    const outputs = await Promise.all([
      h.reconcile({ namespaces: [ns] }, 120_000, invocation),
      h.reconcile({ namespaces: [ns] }, 120_000, invocation),
    ])

    const reports = outputs.map((o) => o.resources[0]!)
    expect(reports.map((r) => r.status).sort()).toEqual(['complete', 'skipped'])
    expect(reports.find((r) => r.status === 'skipped')?.error).toMatch(
      /^another invocation holds the lease: reconcile\/one-request#\d+, until /,
    )
    expect(reports.find((r) => r.status === 'complete')).toMatchObject({ inserted: 120 })
    expect(await divergence(kc, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  }, 60_000)

  it('stops a run whose lease was taken over, reports it failed, and writes nothing after', async () => {
    const ns = await namespaceWithConfigMaps(kc, 120, 'lease')
    h = await harness({ ...leases, ...slowWrites })
    const writes: Array<{ at: number; command: string; collection: unknown }> = []
    h.mongo.on('commandStarted', (e: CommandStartedEvent) => {
      if (['insert', 'update', 'delete', 'findAndModify'].includes(e.commandName))
        writes.push({
          at: performance.now(),
          command: e.commandName,
          collection: e.command[e.commandName],
        })
    })
    // The moment the run learns it lost its lease (its `lease.lost` line).
    let lostAt = Infinity
    const spies = [process.stdout, process.stderr].map((stream) => {
      const write = stream.write.bind(stream)
      return vi.spyOn(stream, 'write').mockImplementation((chunk, ...rest) => {
        if (String(chunk).includes('"event":"lease.lost"'))
          lostAt = Math.min(lostAt, performance.now())
        return write(chunk, ...(rest as []))
      })
    })
    try {
      const run = h.reconcile({ namespaces: [ns] })
      const documents = h.db.collection('configmaps')
      while ((await documents.countDocuments()) === 0) await sleep(50)
      // The run's lease expired (say it stalled) and another invocation took it: a newer claim.
      const ours = (await newestClaim(h))!
      await h.db.collection<LeaseClaim>('sync_leases').insertOne({
        _id: `${stateId}#${ours.generation + 100}`,
        stateId,
        generation: ours.generation + 100,
        owner: 'reconcile/thief',
        expiresAt: new Date(Date.now() + 60_000),
      })
      const out = await run

      expect(out.ok).toBe(false)
      expect(out.resources[0]!.status).toBe('failed')
      expect(out.resources[0]!.error).toMatch(
        /^lease of v1\/configmaps lost: taken over by reconcile\/thief, whose lease expires at /,
      )
      // Stopped mid-run: some chunks written, the rest never sent, no checkpoint.
      const stored = await documents.countDocuments()
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(120)
      expect(lostAt).toBeLessThan(Infinity)
      expect(writes.filter((w) => w.at > lostAt && w.collection !== 'sync_leases')).toEqual([])
      expect(
        await h.db.collection('sync_state').findOne({ _id: stateId as never }),
      ).not.toHaveProperty('listResourceVersion')
      expect(await newestClaim(h)).toMatchObject({ owner: 'reconcile/thief' })
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  }, 60_000)
})
