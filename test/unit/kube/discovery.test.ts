import { describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { makeDiscover } from '../../../lib/kube/discovery.js'
import { parseResourceRef, type ResourceRef } from '../../../lib/resource-ref.js'
import { fakeTransport } from './fakes/fake-transport.js'

const ref = (id: string): ResourceRef => parseResourceRef(id)!
const coreV1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'pods', kind: 'Pod', namespaced: true, verbs: ['get', 'list', 'watch'] },
    { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get'] },
    { name: 'nodes', kind: 'Node', namespaced: false, verbs: ['get', 'list', 'watch'] },
    { name: 'bindings', kind: 'Binding', namespaced: true, verbs: ['create'] },
  ],
}

function server() {
  let widgets = false
  const transport = fakeTransport((request) => {
    if (request.path === '/api/v1') return { json: coreV1 }
    if (request.path === '/apis/example.com/v1') {
      const resources = widgets
        ? [{ name: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list', 'watch'] }]
        : []
      return { json: { resources } }
    }
    return {
      status: 404,
      json: {
        kind: 'Status',
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      },
    }
  })
  return { transport, installWidgets: () => (widgets = true) }
}

describe('discover', () => {
  it('finds kind and scope of core and grouped resources, asking each group/version once', async () => {
    const { transport } = server()
    const discover = makeDiscover(transport, { timeoutMs: 1000 })

    expect(await discover(ref('v1/pods'))).toEqual({
      ref: ref('v1/pods'),
      kind: 'Pod',
      namespaced: true,
      apiVersion: 'v1',
    })
    expect(await discover(ref('v1/nodes'))).toMatchObject({ kind: 'Node', namespaced: false })
    expect(transport.requests).toHaveLength(1)
  })

  it('names a resource its group/version does not serve, as a fatal not-found error', async () => {
    const discover = makeDiscover(server().transport, { timeoutMs: 1000 })

    const error = await discover(ref('v1/gizmos')).catch((e: unknown) => e)

    expect(error).toMatchObject({
      name: 'ResourceNotFoundError',
      message: expect.stringContaining('v1/gizmos'),
    })
    expect(classify(error)).toMatchObject({ kind: 'fatal', reason: 'http-404' })
  })

  it('names a group/version the server does not have', async () => {
    const discover = makeDiscover(server().transport, { timeoutMs: 1000 })

    await expect(discover(ref('nope.io/v1/things'))).rejects.toThrow(
      'resource nope.io/v1/things is not served: the API server has no group/version nope.io/v1',
    )
  })

  it('refuses a resource that cannot be listed and watched', async () => {
    const discover = makeDiscover(server().transport, { timeoutMs: 1000 })

    await expect(discover(ref('v1/bindings'))).rejects.toThrow(/does not support list, watch/)
  })

  it('asks again when a cached group/version lacks the resource (a CRD installed since)', async () => {
    const { transport, installWidgets } = server()
    const discover = makeDiscover(transport, { timeoutMs: 1000 })
    await expect(discover(ref('example.com/v1/widgets'))).rejects.toThrow(/no resource "widgets"/)

    installWidgets()

    expect(await discover(ref('example.com/v1/widgets'))).toMatchObject({
      kind: 'Widget',
      apiVersion: 'example.com/v1',
    })
  })
})
