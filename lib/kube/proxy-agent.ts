import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import tls from 'node:tls'

/*
 * A kubeconfig cluster's `proxy-url`: an https:// API server reached through
 * an http:// or https:// proxy by CONNECT, as @kubernetes/client-node's
 * HttpsProxyAgent did. A socks proxy, or a plain-text API server behind a
 * proxy, is refused when the kubeconfig is read (kubeconfig.ts).
 */

/** Why this proxy-url cannot be used with this server; undefined: it can. Never quotes the URL (it may hold a password). */
export function unsupportedProxy(proxyUrl: string, server: string): string | undefined {
  let protocol: string
  try {
    protocol = new URL(proxyUrl).protocol
  } catch {
    return 'proxy-url is not a URL'
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    return `a ${protocol.replace(/:$/, '')} proxy-url is not supported (an http or https proxy is)`
  if (!server.startsWith('https:')) return 'proxy-url is supported for an https:// API server only'
  return undefined
}

type ConnectOptions = tls.ConnectionOptions & { host?: string; port?: number }
type Created = (error: Error | null, socket?: Socket) => void

export function proxyTunnelAgent(
  proxyUrl: string,
  server: string,
  options: https.AgentOptions,
): http.Agent {
  const problem = unsupportedProxy(proxyUrl, server)
  if (problem) throw new Error(problem)
  const proxy = new URL(proxyUrl)
  const agent = new https.Agent(options)
  const tunnel = (target: ConnectOptions, created: Created): undefined => {
    const authority = `${target.host}:${target.port ?? 443}`
    const headers: Record<string, string> = { host: authority }
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    }
    const request = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
    })
    request.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy()
        created(new Error(`the proxy answered CONNECT with HTTP ${response.statusCode}`))
        return
      }
      created(null, tls.connect({ ...target, socket }))
    })
    request.once('error', (error) => created(error))
    request.end()
    return undefined
  }
  // Node's Agent waits for the callback when createConnection returns nothing.
  ;(agent as unknown as { createConnection: typeof tunnel }).createConnection = tunnel
  return agent
}
