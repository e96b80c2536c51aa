import { describe, expect, it } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { createKubeClient, loadKubeConfig } from '../../../lib/kube/client.js'
import { redactText } from '../../../lib/redact.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'

const token = 'tok-3b1f0c9e2d7a4f6b8c5e'
const yaml = `apiVersion: v1
kind: Config
current-context: test
clusters:
  - name: c
    cluster:
      server: https://127.0.0.1:6443/
      insecure-skip-tls-verify: true
users:
  - name: u
    user:
      token: ${token}
contexts:
  - name: test
    context: { cluster: c, user: u }
`

const fromText = (text: string) => ({ kind: 'text' as const, text, secretId: 'prod/kubeconfig' })
const options = { requestTimeoutMs: 1000, guard: unguarded }

describe('loadKubeConfig', () => {
  it('reads a kubeconfig from YAML or JSON text', () => {
    const json = JSON.stringify({
      'current-context': 'j',
      clusters: [{ name: 'c', cluster: { server: 'https://k.example:443' } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'j', context: { cluster: 'c', user: 'u' } }],
    })

    expect(createKubeClient(fromText(yaml), options).server).toBe('https://127.0.0.1:6443')
    expect(loadKubeConfig(fromText(json)).getCurrentCluster()?.server).toBe('https://k.example:443')
  })

  it('registers the token it found, so no log line can print it', () => {
    loadKubeConfig(fromText(yaml))

    expect(redactText(`header was ${token}`)).toBe('header was ***')
  })

  it('names the secret and the problem of malformed text, without quoting it', () => {
    const broken = `${yaml}\n  token: : ${token}-other [`

    const error = (() => {
      try {
        loadKubeConfig(fromText(broken))
      } catch (e) {
        return e as Error & { context: unknown }
      }
    })()

    expect(error?.message).toMatch(
      /^kubeconfig secret prod\/kubeconfig is not a valid kubeconfig: not YAML or JSON \(.+ at line \d+\)$/,
    )
    expect(error?.message).not.toContain(token)
    expect(error?.context).toEqual({ secretId: 'prod/kubeconfig' })
    expect(classify(error).kind).toBe('fatal')
  })

  it('says which part of a well-formed kubeconfig is missing', () => {
    expect(() =>
      loadKubeConfig(fromText(yaml.replace('current-context: test', 'current-context: other'))),
    ).toThrow(
      'kubeconfig secret prod/kubeconfig is not usable: current-context "other" is not among its contexts',
    )
    expect(() => loadKubeConfig(fromText(yaml.replace('user: u }', 'user: nobody }')))).toThrow(
      'context "test" names user "nobody", which is missing',
    )
    expect(() =>
      loadKubeConfig(fromText(yaml.replace('server: https://127.0.0.1:6443/', 'proxy-url: x'))),
    ).toThrow('not a valid kubeconfig: clusters[0].cluster.server is missing')
    expect(() => loadKubeConfig(fromText('just some text'))).toThrow(
      'not usable: no current-context',
    )
  })

  it('names a kubeconfig file that cannot be read', () => {
    expect(() => loadKubeConfig({ kind: 'file', path: '/nonexistent/kubeconfig' })).toThrow(
      'kubeconfig file /nonexistent/kubeconfig is not a valid kubeconfig: cannot be read (ENOENT)',
    )
  })

  it('builds an EKS cluster from its endpoint and CA, with no static credentials', () => {
    const kc = loadKubeConfig({
      kind: 'eks',
      server: 'https://abc.eks.amazonaws.com',
      caData: 'Q0E=',
      getToken: () => Promise.resolve('x'),
    })

    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://abc.eks.amazonaws.com',
      caData: 'Q0E=',
      skipTLSVerify: false,
    })
    expect(kc.getCurrentUser()?.token).toBeUndefined()
  })
})
