import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import type { KubeConfig } from '@kubernetes/client-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { KubeApiError } from '../../../lib/kube/errors.js'
import { openKubeClient } from '../../../lib/kube/open-client.js'
import { parseResourceRef } from '../../../lib/resource-ref.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'
import { createTestNamespace, kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import { createConfigMaps } from './helpers.js'

/*
 * The functions' client (lib/kube/open-client.ts) against the real API
 * server: an EKS-style connection (endpoint, CA, bearer token) made without
 * @kubernetes/client-node, and a kubeconfig read from a secret value.
 */

const options = { requestTimeoutMs: 10_000, guard: unguarded }

describe('openKubeClient against the real API server', () => {
  let admin: KubeConfig
  let namespace: string

  beforeAll(async () => {
    admin = kubeConfigFrom()
    namespace = await createTestNamespace(admin, 'open-client')
    await createConfigMaps(admin, namespace, 12)
  })

  it.skipIf(kubeIsExternal())(
    'lists through an EKS-style connection: the cluster CA trusted, a token asked for on every request',
    async () => {
      let asked = 0
      const eks = await openKubeClient(
        {
          kind: 'eks',
          server: process.env.KUBE_APISERVER_URL!,
          caData: readFileSync(process.env.KUBE_CA_FILE!).toString('base64'),
          getToken: () => (asked++, Promise.resolve(admin.getCurrentUser()!.token!)),
        },
        options,
      )

      const resolved = await eks.discover(parseResourceRef('v1/configmaps')!)
      const page = await eks.listPage({ resolved, namespace, limit: 100 })

      expect(page.items).toHaveLength(12)
      expect(asked).toBe(2)
    },
  )

  it.skipIf(kubeIsExternal())('is refused by the API server for a wrong token', async () => {
    const eks = await openKubeClient(
      {
        kind: 'eks',
        server: process.env.KUBE_APISERVER_URL!,
        caData: readFileSync(process.env.KUBE_CA_FILE!).toString('base64'),
        getToken: () => Promise.resolve('not-a-token-of-this-cluster'),
      },
      options,
    )

    const error = await eks.discover(parseResourceRef('v1/configmaps')!).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(KubeApiError)
    expect(error).toMatchObject({ code: 401 })
  })

  it.skipIf(kubeIsExternal())(
    'does not connect to a server whose certificate another CA signed',
    async () => {
      // A real CA (the first of Node's roots) that did not sign the stack's API server certificate.
      const otherCa = Buffer.from(rootCertificates[0]!).toString('base64')
      const eks = await openKubeClient(
        {
          kind: 'eks',
          server: process.env.KUBE_APISERVER_URL!,
          caData: otherCa,
          getToken: () => Promise.resolve(admin.getCurrentUser()!.token!),
        },
        options,
      )

      const error = await eks.discover(parseResourceRef('v1/configmaps')!).catch((e: unknown) => e)

      expect(error).toBeInstanceOf(Error)
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).toMatch(
        /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|certificate/i,
      )
    },
  )

  it('lists with a kubeconfig read from a secret value', async () => {
    const text = readFileSync(process.env.KUBECONFIG!, 'utf8')
    const client = await openKubeClient(
      { kind: 'text', text, secretId: 'test/kubeconfig' },
      { ...options, allowInsecureTls: process.env.ALLOW_INSECURE_TLS === 'true' },
    )

    const resolved = await client.discover(parseResourceRef('v1/configmaps')!)
    const page = await client.listPage({ resolved, namespace, limit: 100 })

    expect(page.items).toHaveLength(12)
  })
})
