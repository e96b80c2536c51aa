// A fetch client for toxiproxy's HTTP API (https://github.com/Shopify/toxiproxy#http-api).

export interface Proxy {
  name: string
  listen: string
  upstream: string
  enabled: boolean
}

export type ToxicStream = 'upstream' | 'downstream'

export type ToxicSpec =
  | { type: 'latency'; attributes: { latency: number; jitter?: number } }
  | { type: 'bandwidth'; attributes: { rate: number } }
  | { type: 'timeout'; attributes: { timeout: number } }
  | { type: 'reset_peer'; attributes: { timeout: number } }
  | {
      type: 'slicer'
      attributes: { average_size: number; size_variation?: number; delay?: number }
    }
  | { type: 'limit_data'; attributes: { bytes: number } }

export type Toxic = ToxicSpec & { name?: string; stream?: ToxicStream; toxicity?: number }

export class ToxiproxyClient {
  constructor(readonly url = process.env.TOXIPROXY_URL ?? 'http://127.0.0.1:28474') {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${text}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }

  /** Creates the proxies, or replaces them if they exist (toxics dropped). */
  populate(proxies: Proxy[]): Promise<unknown> {
    return this.call('POST', '/populate', proxies)
  }

  listProxies(): Promise<Record<string, Proxy>> {
    return this.call('GET', '/proxies')
  }

  getProxy(name: string): Promise<Proxy & { toxics: Toxic[] }> {
    return this.call('GET', `/proxies/${name}`)
  }

  deleteProxy(name: string): Promise<void> {
    return this.call('DELETE', `/proxies/${name}`)
  }

  /** A disabled proxy refuses new connections and closes the open ones: a link down. */
  setEnabled(name: string, enabled: boolean): Promise<Proxy> {
    return this.call('POST', `/proxies/${name}`, { enabled })
  }

  /** Re-enables every proxy and removes every toxic. */
  reset(): Promise<void> {
    return this.call('POST', '/reset')
  }

  addToxic(proxy: string, toxic: Toxic): Promise<Toxic & { name: string }> {
    const body = {
      stream: 'downstream',
      toxicity: 1,
      name: toxic.name ?? `${toxic.type}_${toxic.stream ?? 'downstream'}`,
      ...toxic,
    }
    return this.call('POST', `/proxies/${proxy}/toxics`, body)
  }

  removeToxic(proxy: string, toxicName: string): Promise<void> {
    return this.call('DELETE', `/proxies/${proxy}/toxics/${toxicName}`)
  }
}

/** The stack's MongoDB reached through toxiproxy, for tests that inject network faults. */
export function mongoUriThroughToxiproxy(): string {
  const uri = process.env.MONGODB_URI_TOXIPROXY
  if (!uri) throw new Error('MONGODB_URI_TOXIPROXY missing from .stack/env')
  return uri
}
