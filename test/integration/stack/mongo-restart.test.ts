import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'

import { startMongo, stopMongo } from '../../stack/control.js'
import { mongoIsExternal, uniqueName, rejectionOf } from '../../stack/test-helpers.js'

const watched = [
  'serverHeartbeatFailed',
  'serverDescriptionChanged',
  'connectionPoolCleared',
  'connectionPoolReady',
  'connectionClosed',
  'connectionCreated',
  'connectionCheckOutFailed',
] as const

describe.skipIf(mongoIsExternal())('a FerretDB restart under a live MongoClient', () => {
  const client = new MongoClient(process.env.MONGODB_URI ?? '', {
    serverSelectionTimeoutMS: 3_000,
    heartbeatFrequencyMS: 500,
  })
  const seen: string[] = []
  for (const name of watched) client.on(name, () => seen.push(name))
  const coll = client.db(uniqueName('restart')).collection<{ _id: number }>('docs')

  afterAll(async () => {
    await coll.drop().catch(() => undefined)
    await client.close()
  })

  it('fails while the server is down and recovers on the same client, data kept', async () => {
    await coll.insertOne({ _id: 1 })
    seen.length = 0
    await stopMongo()
    const down = await rejectionOf(coll.findOne({ _id: 1 }))
    expect(down).toBeInstanceOf(Error)
    const duringOutage = [...new Set(seen)]
    seen.length = 0
    await startMongo()
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1 })
    console.log('error while down:', down?.name, down?.message)
    console.log('events while down:', duringOutage.join(', '))
    console.log('events after restart:', [...new Set(seen)].join(', '))
  })
})
