import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { Cluster, ExecConfig, User } from './kubeconfig-parse.js'
import { proxyTunnelAgent } from './proxy-agent.js'
import type { Authorize } from './transport.js'

/*
 * What a request to a kubeconfig's cluster carries, as
 * @kubernetes/client-node's KubeConfig.applyToHTTPSOptions made it: an agent
 * with the cluster's CA, the user's client certificate and the TLS options,
 * and the user's token, basic auth or impersonation as headers. Tokens from a
 * file auth provider or an exec plugin (local kubeconfig files only:
 * kubeconfig-checks.ts refuses them in a secret) are asked for on every request.
 */

export function kubeconfigAuthorize(cluster: Cluster, user: User | undefined): Authorize {
  const tokens = user && tokenSource(user)
  let agent: http.Agent | undefined
  return async () => {
    const fromPlugin = tokens ? await tokens() : {}
    // The agent (TLS material, proxy) is built once, with the plugin's first certificate if any.
    agent ??= agentFor(cluster, user, fromPlugin)
    const headers: Record<string, string> = {}
    if (user?.impersonateUser != null) headers['Impersonate-User'] = user.impersonateUser
    const token = user?.token ?? fromPlugin.token
    if (token) headers.Authorization = `Bearer ${token}`
    return {
      agent,
      headers,
      ...(user?.username ? { auth: `${user.username}:${user.password}` } : {}),
    }
  }
}

/** What an auth provider or exec plugin gave: a token, or a client certificate. */
interface PluginCredential {
  readonly token?: string
  readonly cert?: string
  readonly key?: string
}

function agentFor(cluster: Cluster, user: User | undefined, plugin: PluginCredential): http.Agent {
  const options: https.AgentOptions = {
    ca: bufferOf(cluster.caFile, cluster.caData),
    cert: plugin.cert ?? bufferOf(user?.certFile, user?.certData),
    key: plugin.key ?? bufferOf(user?.keyFile, user?.keyData),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  }
  if (cluster.proxyUrl) return proxyTunnelAgent(cluster.proxyUrl, cluster.server, options)
  if (cluster.server.startsWith('http:')) {
    if (!cluster.skipTLSVerify)
      throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false')
    return new http.Agent(options)
  }
  return new https.Agent(options)
}

function bufferOf(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file)
  return data ? Buffer.from(data, 'base64') : undefined
}

type TokenSource = () => Promise<PluginCredential>

/**
 * Why this user's auth-provider cannot be used; undefined: it can (or there is
 * none). The exec and token-file ones are; gcp, azure and oidc, which
 * client-node ran, are not: kubectl dropped the first two for exec plugins.
 */
export function unsupportedAuthProvider(user: User): string | undefined {
  if (!user.authProvider || tokenSource(user)) return undefined
  const name = typeof user.authProvider.name === 'string' ? user.authProvider.name : ''
  return `user "${user.name}" has an auth-provider "${name}", which is not supported: use an exec credential plugin`
}

function tokenSource(user: User): TokenSource | undefined {
  const provider = user.authProvider
  const exec = user.exec ?? (provider?.config?.exec as ExecConfig | undefined)
  if (exec) return execPlugin(exec)
  const tokenFile = provider?.config?.tokenFile
  if (typeof tokenFile === 'string' && tokenFile !== '') return fileToken(tokenFile)
  return undefined
}

/** Re-read at most every minute, as client-go and client-node do. */
function fileToken(path: string): TokenSource {
  let token: string | undefined
  let readAt = 0
  return () => {
    if (token === undefined || Date.now() - readAt > 60_000) {
      token = readFileSync(path, 'utf8')
      readAt = Date.now()
    }
    return Promise.resolve({ token })
  }
}

interface ExecCredential {
  readonly status?: {
    readonly token?: string
    readonly clientCertificateData?: string
    readonly clientKeyData?: string
    readonly expirationTimestamp?: string
  }
}

/** The plugin's ExecCredential, kept until its expirationTimestamp (none: until the next request). */
function execPlugin(exec: ExecConfig): TokenSource {
  let cached: ExecCredential | undefined
  return async () => {
    const expiry = Date.parse(cached?.status?.expirationTimestamp ?? '')
    if (!cached || !(expiry > Date.now())) cached = await runPlugin(exec)
    const status = cached.status ?? {}
    return {
      token: status.token,
      cert: status.clientCertificateData,
      key: status.clientKeyData,
    }
  }
}

async function runPlugin(exec: ExecConfig): Promise<ExecCredential> {
  if (!exec.command) throw new Error('No command was specified for exec authProvider!')
  const env = exec.env ? { ...process.env } : undefined
  for (const { name, value } of exec.env ?? []) env![name] = value
  // Local kubeconfig files only: a worker's first kubeconfig does not load child_process.
  const { spawn } = await import('node:child_process')
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command!, [...(exec.args ?? [])], env ? { env } : {})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data))
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(stderr))
      try {
        resolve(JSON.parse(stdout) as ExecCredential)
      } catch {
        reject(new Error('the exec plugin printed no ExecCredential JSON'))
      }
    })
  })
}
