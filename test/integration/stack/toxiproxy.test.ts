import { CoreV1Api } from '@kubernetes/client-node'
import { MongoClient } from 'mongodb'
import { afterEach, describe, expect, it } from 'vitest'

import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import {
  kubeConfigFrom,
  kubeIsExternal,
  uniqueName,
  rejectionOf,
} from '../../stack/test-helpers.js'

describe('toxiproxy in front of the API server and MongoDB', () => {
  const toxi = new ToxiproxyClient()

  afterEach(() => toxi.reset())

  it.skipIf(kubeIsExternal())(
    'lets a reset_peer toxic break API calls until it is removed',
    async () => {
      const core = kubeConfigFrom(process.env.KUBECONFIG_TOXIPROXY).makeApiClient(CoreV1Api)
      await expect(core.listNamespace({ limit: 1 })).resolves.toBeDefined()
      await toxi.addToxic('kube', { name: 'rst', type: 'reset_peer', attributes: { timeout: 0 } })
      const error = await rejectionOf(core.listNamespace({ limit: 1 }))
      expect(String(error)).toMatch(/ECONNRESET|socket hang up|network|fetch failed/i)
      await toxi.removeToxic('kube', 'rst')
      await expect(core.listNamespace({ limit: 1 })).resolves.toBeDefined()
    },
  )

  it.skipIf(!process.env.MONGODB_URI_TOXIPROXY)(
    'makes a disabled mongo proxy a network error for the driver',
    async () => {
      const client = new MongoClient(process.env.MONGODB_URI_TOXIPROXY ?? '', {
        serverSelectionTimeoutMS: 1_500,
      })
      try {
        const coll = client.db(uniqueName('toxi')).collection('x')
        await coll.insertOne({ a: 1 })
        await toxi.setEnabled('mongo', false)
        const error = await rejectionOf(coll.findOne({}))
        // mongodb 7.9 surfaces the write to the pooled socket the proxy closed as a plain
        // Error with code EPIPE, not a MongoNetworkError: error classification must expect both.
        expect(`${error?.name} ${error?.code}`).toMatch(
          /MongoNetwork|MongoServerSelection|EPIPE|ECONNRESET/,
        )
        await toxi.setEnabled('mongo', true)
        expect(await coll.findOne({})).toMatchObject({ a: 1 })
        await coll.drop()
      } finally {
        await client.close()
      }
    },
  )
})
