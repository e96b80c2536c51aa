import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'

import { mongoIsExternal, uniqueName } from '../../stack/test-helpers.js'

const uri = () => {
  const value = process.env.MONGODB_URI
  if (!value) throw new Error('MONGODB_URI unset')
  return value
}

describe('the stack MongoDB', () => {
  const client = new MongoClient(uri(), { serverSelectionTimeoutMS: 5_000 })
  const db = client.db(uniqueName('smoke'))

  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined)
    await client.close()
  })

  it('inserts and reads back a document', async () => {
    const coll = db.collection<{ _id: string; labels: { key: string; value: string }[] }>('things')
    await coll.insertOne({ _id: 'c/1', labels: [{ key: 'app.kubernetes.io/name', value: 'x' }] })
    expect(await coll.findOne({ 'labels.key': 'app.kubernetes.io/name' })).toMatchObject({
      _id: 'c/1',
    })
  })

  it.skipIf(mongoIsExternal())(
    'rejects a wrong password with AuthenticationFailed (18)',
    async () => {
      const bad = new URL(uri())
      bad.password = 'wrong'
      const wrong = new MongoClient(bad.toString(), { serverSelectionTimeoutMS: 5_000 })
      try {
        await expect(wrong.db('admin').command({ ping: 1 })).rejects.toMatchObject({ code: 18 })
      } finally {
        await wrong.close()
      }
    },
  )
})
