import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
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
users:
  - name: u
    user:
      token: ${token}
contexts:
  - name: test
    context: { cluster: c, user: u }
`

/** The JSON log lines written from now on (restored after each test). */
function captureLogs(): () => Array<Record<string, unknown>> {
  const lines: string[] = []
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean))
    return true
  }
  vi.spyOn(process.stdout, 'write').mockImplementation(capture)
  vi.spyOn(process.stderr, 'write').mockImplementation(capture)
  return () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
}
afterEach(() => {
  vi.restoreAllMocks()
})

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

describe('kubeconfigs that would run programs inside the function', () => {
  const withUser = (user: string) =>
    yaml.replace(
      `  - name: u\n    user:\n      token: ${token}\n`,
      `  - name: u\n    user:\n${user}`,
    )
  const exec = `      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: aws
        args: [eks, get-token, --cluster-name, prod]
`
  const authProvider = `      auth-provider:
        name: gcp
        config: { cmd-path: /bin/sh, cmd-args: -c id }
`

  it.each([
    ['an exec credential plugin', exec, 'user "u" has an exec credential plugin'],
    ['an auth-provider', authProvider, 'user "u" has an auth-provider "gcp"'],
  ])(
    'refuses a kubeconfig secret whose user has %s, naming the secret and the user',
    (_, user, why) => {
      const text = withUser(user)

      expect(() => loadKubeConfig(fromText(text))).toThrow(
        `kubeconfig secret prod/kubeconfig is refused: ${why}`,
      )
      expect(() => createKubeClient(fromText(text), options)).toThrow(
        'must not run programs inside the function',
      )
    },
  )

  it('refuses a program user even when the current context does not use it', () => {
    const text = `${yaml}  - name: other\n    context: { cluster: c, user: plugin }\n`.replace(
      'users:\n',
      `users:\n  - name: plugin\n    user:\n${exec}`,
    )

    expect(() => loadKubeConfig(fromText(text))).toThrow('user "plugin" has an exec')
  })

  it('accepts them in a local KUBECONFIG file, the user’s own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-kc-'))
    const path = join(dir, 'kubeconfig')
    writeFileSync(path, withUser(exec))

    expect(loadKubeConfig({ kind: 'file', path }).getCurrentUser()?.exec).toMatchObject({
      command: 'aws',
    })
  })

  it('registers a token read from a token-file of a local kubeconfig with the redactor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-kc-'))
    const tokenFile = join(dir, 'token')
    const fileToken = 'file-tok-9d8c7b6a5f4e3d2c1b0a'
    writeFileSync(tokenFile, fileToken)
    const path = join(dir, 'kubeconfig')
    writeFileSync(path, withUser(`      token-file: ${tokenFile}\n`))

    loadKubeConfig({ kind: 'file', path })

    expect(redactText(`header was ${fileToken}`)).toBe('header was ***')
  })

  it.each([
    ['token-file', '      token-file: /proc/self/environ\n', 'user "u" reads token-file'],
    [
      'client-key',
      '      client-certificate-data: Y2VydA==\n      client-key: /var/task/key.pem\n',
      'user "u" reads client-key',
    ],
  ])(
    'refuses a kubeconfig secret that reads a %s from the function’s disk, before reading it',
    (_, user, why) => {
      const dir = mkdtempSync(join(tmpdir(), 'kms-kc-'))
      const marker = join(dir, 'never-read')
      const text = withUser(user.replace(/\/proc\/self\/environ|\/var\/task\/key\.pem/, marker))
      writeFileSync(marker, 'file-secret-7f6e5d4c3b2a')

      expect(() => loadKubeConfig(fromText(text))).toThrow(
        `kubeconfig secret prod/kubeconfig is refused: ${why} from a file`,
      )
      expect(redactText('file-secret-7f6e5d4c3b2a')).toBe('file-secret-7f6e5d4c3b2a')
    },
  )
})

describe('insecure transport to the API server', () => {
  const insecure = yaml.replace(
    'server: https://127.0.0.1:6443/',
    'server: http://10.0.0.7:8080/\n      insecure-skip-tls-verify: true',
  )
  const skipVerify = yaml.replace(
    'server: https://127.0.0.1:6443/',
    'server: https://k.example:443/\n      insecure-skip-tls-verify: true',
  )

  it('refuses an http:// server or insecure-skip-tls-verify unless ALLOW_INSECURE_TLS, naming each problem', () => {
    const refused = (text: string) => {
      try {
        createKubeClient(fromText(text), options)
      } catch (error) {
        return error as Error
      }
      return undefined
    }

    expect(refused(insecure)?.message).toMatch(
      /^kubeconfig secret prod\/kubeconfig: API server http:\/\/10\.0\.0\.7:8080\/?: http:\/\/ API server: plain text; insecure-skip-tls-verify: the server certificate is not checked\. Refused: .*ALLOW_INSECURE_TLS=true/,
    )
    expect(refused(skipVerify)?.message).toContain(
      'insecure-skip-tls-verify: the server certificate is not checked. Refused',
    )
    expect(classify(refused(skipVerify))).toMatchObject({
      kind: 'fatal',
      reason: 'insecure-transport',
    })
  })

  it('accepts them with ALLOW_INSECURE_TLS, logging a transport.insecure warning', () => {
    const lines = captureLogs()

    const client = createKubeClient(fromText(skipVerify), { ...options, allowInsecureTls: true })

    expect(client.server).toBe('https://k.example:443')
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        event: 'transport.insecure',
        target: 'kubernetes',
        problems: ['insecure-skip-tls-verify: the server certificate is not checked'],
      }),
    )
  })
})
