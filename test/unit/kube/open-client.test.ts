import { afterEach, describe, expect, it, vi } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { eksConnection } from '../../../lib/kube/eks-connection.js'
import { openKubeClient } from '../../../lib/kube/open-client.js'
import { redactText } from '../../../lib/redact.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'

/*
 * The functions' client (lib/kube/open-client.ts): the same checks as
 * createKubeClient, with the kubeconfig reader (lib/kube/kubeconfig.ts)
 * loaded only for a kubeconfig.
 */

const kubeconfigModule = '../../../lib/kube/kubeconfig.js'

/** open-client.ts loaded afresh, counting the loads of kubeconfig.ts from now on. */
async function freshOpenClient() {
  vi.resetModules()
  let loads = 0
  vi.doMock(kubeconfigModule, async (importOriginal) => {
    loads++
    return importOriginal()
  })
  const { openKubeClient: open } = await import('../../../lib/kube/open-client.js')
  // The redactor of the modules just loaded (vi.resetModules gave them their own).
  const { redactText: redact } = await import('../../../lib/redact.js')
  return { open, redact, loads: () => loads }
}

const options = { requestTimeoutMs: 1000, guard: unguarded }
const token = 'tok-9c8b7a6f5e4d3c2b1a0f'
const yaml = (user: string) => `apiVersion: v1
kind: Config
current-context: test
clusters:
  - name: c
    cluster:
      server: https://127.0.0.1:6443/
users:
  - name: u
    user:
${user}
contexts:
  - name: test
    context: { cluster: c, user: u }
`
const fromText = (text: string) => ({ kind: 'text' as const, text, secretId: 'prod/kubeconfig' })
/** Any base64 will do: the agent only parses it when a TLS connection is made. */
const caData = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
).toString('base64')
const eks = (server: string, getToken = () => Promise.resolve('k8s-aws-v1.c2lnbmVk')) => ({
  kind: 'eks' as const,
  server,
  caData,
  getToken,
})

describe('openKubeClient', () => {
  afterEach(() => {
    vi.doUnmock(kubeconfigModule)
    vi.resetModules()
  })

  it('gives an EKS cluster its client without loading the kubeconfig reader', async () => {
    const { open, loads } = await freshOpenClient()

    const client = await open(eks('https://ABC.gr7.eu-west-1.eks.amazonaws.com'), options)

    expect(client.server).toBe('https://ABC.gr7.eu-west-1.eks.amazonaws.com')
    expect(loads()).toBe(0)
  })

  it('loads the kubeconfig reader the first time a kubeconfig is read', async () => {
    const { open, redact, loads } = await freshOpenClient()

    const client = await open(fromText(yaml(`      token: ${token}`)), options)
    await open(fromText(yaml(`      token: ${token}`)), options)

    expect(client.server).toBe('https://127.0.0.1:6443')
    expect(loads()).toBe(1)
    expect(redact(`the token is ${token}`)).toBe('the token is ***')
  })

  it('refuses a kubeconfig secret that would run a program, as createKubeClient does', async () => {
    const exec = `      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: /bin/sh`

    await expect(openKubeClient(fromText(yaml(exec)), options)).rejects.toThrow(
      'kubeconfig secret prod/kubeconfig is refused: user "u" has an exec credential plugin (it runs a program)',
    )
  })

  it('refuses a kubeconfig secret that reads a token from a file', async () => {
    const file = '      token-file: /proc/self/environ'

    await expect(openKubeClient(fromText(yaml(file)), options)).rejects.toThrow(
      'kubeconfig secret prod/kubeconfig is refused: user "u" reads token-file from a file',
    )
  })

  it('refuses an http:// EKS endpoint unless ALLOW_INSECURE_TLS', async () => {
    const refused = await openKubeClient(eks('http://10.0.0.7:8080'), options).catch(
      (error: unknown) => error as Error,
    )

    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toMatch(
      /^EKS cluster: API server http:\/\/10\.0\.0\.7:8080: http:\/\/ API server: plain text\. Refused/,
    )
    expect(classify(refused)).toMatchObject({ kind: 'fatal', reason: 'insecure-transport' })
  })
})

describe('eksConnection', () => {
  it('trusts the cluster CA and asks for the token on every request, as a bearer token', async () => {
    let asked = 0
    const connection = eksConnection(
      eks('https://e.example', () => Promise.resolve(`k8s-aws-v1.token-${++asked}-abcdefgh`)),
    )

    const first = await connection.authorize()
    const second = await connection.authorize()

    expect(first.headers).toEqual({ Authorization: 'Bearer k8s-aws-v1.token-1-abcdefgh' })
    expect(second.headers).toEqual({ Authorization: 'Bearer k8s-aws-v1.token-2-abcdefgh' })
    expect(asked).toBe(2)
    // One agent for the connection: its sockets and TLS sessions are reused.
    expect(second.agent).toBe(first.agent)
    const agentOptions = (first.agent as unknown as { options: { ca?: Buffer } }).options
    expect(agentOptions.ca).toEqual(Buffer.from(caData, 'base64'))
    expect(connection.insecure).toEqual([])
  })

  it('registers each token with the redactor, so no log line can print it', async () => {
    const secret = 'k8s-aws-v1-like-but-not-prefixed-5f4e3d2c1b'
    const connection = eksConnection(eks('https://e.example', () => Promise.resolve(secret)))

    expect(redactText(`token ${secret}`)).toBe(`token ${secret}`)
    await connection.authorize()

    expect(redactText(`token ${secret}`)).toBe('token ***')
  })
})
