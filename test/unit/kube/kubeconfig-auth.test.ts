import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { kubeconfigConnection, loadKubeConfig } from '../../../lib/kube/kubeconfig.js'
import { proxyTunnelAgent, unsupportedProxy } from '../../../lib/kube/proxy-agent.js'

/*
 * A kubeconfig's credentials on each request (lib/kube/kubeconfig-auth.ts):
 * what @kubernetes/client-node's applyToHTTPSOptions gave, read without it
 * (docs/scaling.md#cold-start).
 */

const b64 = (text: string) => Buffer.from(text).toString('base64')
const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>) =>
  JSON.stringify({
    'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: 'https://k.example:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
  })
const fromText = (text: string) => ({ kind: 'text' as const, text, secretId: 'prod/kubeconfig' })
const agentOptions = (agent: unknown) => (agent as { options: https.AgentOptions }).options
const tempDir = () => mkdtempSync(join(tmpdir(), 'kms-kc-auth-'))

describe('a kubeconfig connection', () => {
  it('trusts the cluster CA, presents the client certificate and sends the token', async () => {
    const text = kubeconfig(
      { 'certificate-authority-data': b64('ca-pem') },
      {
        token: 'tok-1a2b3c4d5e6f',
        'client-certificate-data': b64('cert-pem'),
        'client-key-data': b64('key-pem'),
      },
    )
    const connection = kubeconfigConnection(fromText(text))

    const first = await connection.authorize()
    const second = await connection.authorize()

    expect(connection.server).toBe('https://k.example:6443')
    expect(first.headers).toEqual({ Authorization: 'Bearer tok-1a2b3c4d5e6f' })
    expect(first.agent).toBeInstanceOf(https.Agent)
    expect(agentOptions(first.agent)).toMatchObject({
      ca: Buffer.from('ca-pem'),
      cert: Buffer.from('cert-pem'),
      key: Buffer.from('key-pem'),
    })
    expect(agentOptions(first.agent).rejectUnauthorized).toBeUndefined()
    // One agent: its sockets and TLS sessions are reused between requests.
    expect(second.agent).toBe(first.agent)
  })

  it('sends basic auth and impersonation, and the TLS server name and skip-verify it asks for', async () => {
    const text = kubeconfig(
      { 'tls-server-name': 'api.internal', 'insecure-skip-tls-verify': true },
      { username: 'admin', password: 'pw-9f8e7d', as: 'someone' },
    )

    const auth = await kubeconfigConnection(fromText(text)).authorize()

    expect(auth.auth).toBe('admin:pw-9f8e7d')
    expect(auth.headers).toEqual({ 'Impersonate-User': 'someone' })
    expect(agentOptions(auth.agent)).toMatchObject({
      servername: 'api.internal',
      rejectUnauthorized: false,
    })
  })

  it('reaches an http:// server only with insecure-skip-tls-verify, as client-node did', async () => {
    const plain = kubeconfig(
      { server: 'http://10.0.0.7:8080', 'insecure-skip-tls-verify': true },
      {},
    )
    const unchecked = kubeconfig({ server: 'http://10.0.0.7:8080' }, {})

    const auth = await kubeconfigConnection(fromText(plain)).authorize()

    expect(auth.agent).toBeInstanceOf(http.Agent)
    expect(auth.agent).not.toBeInstanceOf(https.Agent)
    await expect(kubeconfigConnection(fromText(unchecked)).authorize()).rejects.toThrow(
      'HTTP protocol is not allowed when skipTLSVerify is not set or false',
    )
  })
})

describe('a local kubeconfig file', () => {
  it('reads certificate files relative to the kubeconfig', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'ca.pem'), 'ca-from-file')
    writeFileSync(join(dir, 'client.pem'), 'cert-from-file')
    writeFileSync(join(dir, 'client.key'), 'key-from-file')
    const path = join(dir, 'kubeconfig')
    writeFileSync(
      path,
      kubeconfig(
        { 'certificate-authority': 'ca.pem' },
        { 'client-certificate': 'client.pem', 'client-key': join(dir, 'client.key') },
      ),
    )

    const auth = await kubeconfigConnection({ kind: 'file', path }).authorize()

    expect(agentOptions(auth.agent)).toMatchObject({
      ca: Buffer.from('ca-from-file'),
      cert: Buffer.from('cert-from-file'),
      key: Buffer.from('key-from-file'),
    })
  })

  it('takes the token of an auth provider that reads it from a file', async () => {
    const dir = tempDir()
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, 'file-provider-tok-5e6f')
    const path = join(dir, 'kubeconfig')
    writeFileSync(
      path,
      kubeconfig({}, { 'auth-provider': { name: 'file', config: { tokenFile } } }),
    )

    const auth = await kubeconfigConnection({ kind: 'file', path }).authorize()

    expect(auth.headers).toEqual({ Authorization: 'Bearer file-provider-tok-5e6f' })
  })

  it('refuses an auth-provider that would need client-node (gcp, azure, oidc), naming the user', () => {
    const dir = tempDir()
    const path = join(dir, 'kubeconfig')
    writeFileSync(path, kubeconfig({}, { 'auth-provider': { name: 'gcp', config: {} } }))

    expect(() => loadKubeConfig({ kind: 'file', path })).toThrow(
      `kubeconfig file ${path} is not usable: user "u" has an auth-provider "gcp", which is not supported: use an exec credential plugin`,
    )
  })

  it('runs an exec plugin, keeping its credential until it expires', async () => {
    const dir = tempDir()
    const runs = join(dir, 'runs')
    writeFileSync(runs, '')
    const plugin = (expiration: string) => ({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: process.execPath,
      args: [
        '-e',
        `require('fs').appendFileSync(process.env.RUNS, 'x'); console.log(JSON.stringify({ status: { token: 'exec-tok-' + process.env.RUNS.length, expirationTimestamp: '${expiration}' } }))`,
      ],
      env: [{ name: 'RUNS', value: runs }],
    })
    const path = join(dir, 'kubeconfig')
    const write = (expiration: string) =>
      writeFileSync(path, kubeconfig({}, { exec: plugin(expiration) }))

    write('2999-01-01T00:00:00Z')
    const lasting = kubeconfigConnection({ kind: 'file', path })
    const first = await lasting.authorize()
    await lasting.authorize()
    expect(first.headers.Authorization).toBe(`Bearer exec-tok-${runs.length}`)
    expect(readFileSync(runs, 'utf8')).toBe('x')

    write('2000-01-01T00:00:00Z')
    const expired = kubeconfigConnection({ kind: 'file', path })
    await expired.authorize()
    await expired.authorize()
    expect(readFileSync(runs, 'utf8')).toBe('xxx')
  })

  it('names the plugin failure, with what it printed on stderr', async () => {
    const dir = tempDir()
    const path = join(dir, 'kubeconfig')
    const exec = {
      command: process.execPath,
      args: ['-e', 'console.error("no session"); process.exit(3)'],
    }
    writeFileSync(path, kubeconfig({}, { exec }))

    await expect(kubeconfigConnection({ kind: 'file', path }).authorize()).rejects.toThrow(
      'no session',
    )
  })
})

describe('proxy-url', () => {
  const servers: http.Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
  })

  it('accepts an http or https proxy to an https:// server, and names what it refuses without quoting the URL', () => {
    expect(unsupportedProxy('http://proxy:3128', 'https://k.example')).toBeUndefined()
    expect(unsupportedProxy('https://u:p@proxy:3129', 'https://k.example')).toBeUndefined()
    expect(unsupportedProxy('socks5://u:secret@proxy:1080', 'https://k.example')).toBe(
      'a socks5 proxy-url is not supported (an http or https proxy is)',
    )
    expect(unsupportedProxy('http://proxy:3128', 'http://k.example')).toBe(
      'proxy-url is supported for an https:// API server only',
    )
    expect(unsupportedProxy('not a url', 'https://k.example')).toBe('proxy-url is not a URL')
  })

  it('refuses a kubeconfig whose cluster has an unsupported proxy-url when it is read', () => {
    const text = kubeconfig({ 'proxy-url': 'socks5://u:secret-5d6e@proxy:1080' }, { token: 't' })

    const error = (() => {
      try {
        loadKubeConfig(fromText(text))
      } catch (e) {
        return e as Error
      }
    })()

    expect(error?.message).toBe(
      'kubeconfig secret prod/kubeconfig is not usable: a socks5 proxy-url is not supported (an http or https proxy is)',
    )
  })

  it('opens a CONNECT tunnel to the API server through the proxy, with its credentials', async () => {
    const seen: Array<{ url?: string; auth?: string }> = []
    const proxy = http.createServer()
    proxy.on('connect', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
      seen.push({ url: req.url, auth: req.headers['proxy-authorization'] })
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    })
    servers.push(proxy)
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const { port } = proxy.address() as AddressInfo
    const agent = proxyTunnelAgent(
      `http://user:p%40ss@127.0.0.1:${port}`,
      'https://k.example:6443',
      {},
    )

    const failure = await new Promise<Error>((resolve) => {
      https.get({ host: 'k.example', port: 6443, path: '/version', agent }).on('error', resolve)
    })

    expect(failure.message).toBe('the proxy answered CONNECT with HTTP 403')
    expect(seen).toEqual([
      { url: 'k.example:6443', auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}` },
    ])
  })
})
